// Actions see our sender checks of the message: the runner reads them from the Authentication-Results
// field in our name (never from one in another's), and the payload carries them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ActionContext, ActionExecutor } from '../../src/actions/action.ts';
import { ActionRunner } from '../../src/actions/action-runner.ts';
import { attachmentList, buildPayload } from '../../src/actions/payload.ts';
import { newMessageId } from '../../src/domain/ids.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { BACKENDS } from '../helpers/backends.ts';
import { envelope } from '../helpers/fixtures.ts';

const HOST = 'mx.in.example';
const T0 = Date.parse('2026-11-24T10:00:00.000Z');

describe('sender checks seen by actions', () => {
  let storage: Storage;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ storage, cleanup } = await BACKENDS[0]!.create());
  });
  after(() => cleanup());

  async function runWith(headerLines: string[]): Promise<ActionContext> {
    const id = newMessageId();
    const raw = Buffer.from(
      [...headerLines, 'From: ann@sender.example', 'Subject: hi', '', 'hello', ''].join('\r\n'),
    );
    await storage.appendSpool([{ id, envelope: envelope({ listener: 'smtp' }), raw }]);
    await storage.saveParsed([{ id, result: { ok: true, parsed: await parseMessage(raw) } }]);
    const now = new Date(T0).toISOString();
    await storage.inbound.takeRouting({ owner: 't', now, leaseMs: 60_000, limit: 100 });
    await storage.inbound.commitRouting({
      owner: 't',
      now,
      throughSeq: (await storage.get(id))!.seq,
      events: [],
      jobs: [
        {
          id: `${id}:r:0`,
          messageId: id,
          routeId: 'r',
          actionIndex: 0,
          action: { type: 'webhook', url: 'https://hooks.example/', attachments: 'none' },
          captures: {},
          recipient: null,
          dueAt: now,
          expiresAt: new Date(T0 + 3_600_000).toISOString(),
        },
      ],
    });
    let seen: ActionContext | null = null;
    const probe: ActionExecutor = {
      type: 'webhook',
      async execute(_a, ctx) {
        seen = ctx;
        return { outcome: 'succeeded', detail: 'seen' };
      },
    };
    const runner = new ActionRunner({
      storage,
      executors: [probe],
      logger: createLogger('silent'),
      owner: 't',
      concurrency: 1,
      leaseMs: 60_000,
      now: () => T0,
      hostname: HOST,
    });
    await runner.runOnce();
    assert.ok(seen, 'the action ran');
    return seen;
  }

  it('reads ours and puts it in the payload', async () => {
    const ctx = await runWith([
      `Authentication-Results: ${HOST}; spf=pass smtp.mailfrom=sender.example; dkim=pass header.d=sender.example; dkim=fail header.d=x.example; dmarc=pass header.from=sender.example; arc=none`,
    ]);
    assert.deepEqual(ctx.auth, { spf: 'pass', dkim: ['pass', 'fail'], dmarc: 'pass', arc: 'none' });
    const payload = buildPayload(ctx.message, ctx.job, attachmentList(ctx.message), ctx.auth);
    assert.deepEqual(payload.Authentication, {
      SPF: 'pass',
      DKIM: ['pass', 'fail'],
      DMARC: 'pass',
      ARC: 'none',
    });
  });

  it('sees none when the only results are another host’s', async () => {
    const ctx = await runWith(['Authentication-Results: mx.elsewhere.example; spf=pass; dmarc=pass']);
    assert.equal(ctx.auth, null);
    assert.equal(buildPayload(ctx.message, ctx.job, [], ctx.auth ?? null).Authentication, null);
  });
});
