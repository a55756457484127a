// A webhook URL that keeps failing is disabled: the executor counts every attempt's outcome
// against the URL (in a fake endpoints store with the storage port's rules), announces the
// disabling once with an event and a warning, and sends nothing more to it until it is enabled.
// The receiver is a real loopback HTTP server.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ActionContext } from '../../src/actions/action.ts';
import type { AttachmentUrlSettings } from '../../src/actions/webhook/attachment-url.ts';
import { type WebhookActionDeps, webhookAction } from '../../src/actions/webhook/webhook-action.ts';
import type { StoredMessage } from '../../src/domain/message.ts';
import type { WebhookAction } from '../../src/domain/route.ts';
import { createAddressPolicy } from '../../src/net/address-policy.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type {
  ActionJob,
  InboundEventInput,
  InboundStore,
  WebhookEndpoint,
  WebhookOutcome,
} from '../../src/storage/inbound-ports.ts';
import { actionJob, storedMessage } from '../helpers/action-context.ts';

const NOW = Date.UTC(2026, 2, 1, 9, 30, 0);
const SECRET = 'w'.repeat(32);

/** The port's rules: failures in a row counted, a success resets them, disabling at the limit. */
class FakeEndpoints
  implements Pick<InboundStore, 'recordWebhookOutcome' | 'webhookEndpoint' | 'addInboundEvents'>
{
  readonly endpoints = new Map<string, WebhookEndpoint>();
  readonly events: InboundEventInput[] = [];
  readonly outcomes: WebhookOutcome[] = [];
  failWrites = false;

  async recordWebhookOutcome(o: WebhookOutcome) {
    if (this.failWrites) throw new Error('database is locked');
    this.outcomes.push(o);
    const e: WebhookEndpoint = this.endpoints.get(o.url) ?? {
      url: o.url,
      consecutiveFailures: 0,
      disabledAt: null,
      lastError: null,
      lastSuccessAt: null,
      updatedAt: o.now,
    };
    const wasDisabled = e.disabledAt !== null;
    if (o.ok) {
      e.consecutiveFailures = 0;
      e.lastSuccessAt = o.now;
    } else {
      e.consecutiveFailures += 1;
      e.lastError = o.error;
      if (o.disableAfter > 0 && e.consecutiveFailures >= o.disableAfter) e.disabledAt ??= o.now;
    }
    e.updatedAt = o.now;
    this.endpoints.set(o.url, e);
    return { endpoint: { ...e }, disabledNow: !wasDisabled && e.disabledAt !== null };
  }

  async webhookEndpoint(url: string) {
    const e = this.endpoints.get(url);
    return e ? { ...e } : null;
  }

  async addInboundEvents(events: readonly InboundEventInput[]) {
    if (this.failWrites) throw new Error('database is locked');
    for (const e of events) if (!this.events.some((x) => x.id === e.id)) this.events.push(e);
  }
}

const MESSAGE: StoredMessage = storedMessage({
  id: 'Msg0000000000000000001',
  receivedAt: new Date(NOW).toISOString(),
  size: 100,
  messageId: 'a1@sender.test',
  subject: 'Hello',
  from: { Name: '', Address: 'ann@sender.test' },
  to: [{ Name: '', Address: 'support@example.test' }],
  snippet: 'Hi',
});

function job(n: number): ActionJob {
  return actionJob(NOW, {
    messageId: MESSAGE.id,
    routeId: 'tickets',
    actionIndex: n,
    action: { type: 'webhook', url: 'unused', attachments: 'none' },
    expiresAt: new Date(NOW + 86_400_000).toISOString(),
  });
}

function ctx(n = 0, signal = new AbortController().signal): ActionContext {
  return { job: job(n), message: MESSAGE, raw: async () => null, signal };
}

const NO_URLS: AttachmentUrlSettings = { baseUrl: null, secret: null, lifetimeMs: 0, unavailable: 'off' };

describe('webhook endpoints that keep failing', () => {
  /** What the receiver answers, in turn; the last one repeats. */
  let replies: number[] = [];
  let requests = 0;
  let server: http.Server;
  let url: string;
  let store: FakeEndpoints;
  let warnings: Record<string, unknown>[];
  let clock: number;

  before(async () => {
    server = http.createServer((req, res) => {
      requests += 1;
      req.resume();
      req.on('end', () => {
        const status = replies.length > 1 ? replies.shift()! : (replies[0] ?? 200);
        res.writeHead(status).end('{}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://hook.test:${(server.address() as AddressInfo).port}/inbound?token=abc`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    replies = [200];
    requests = 0;
    store = new FakeEndpoints();
    warnings = [];
    clock = NOW;
  });

  function executor(over: Partial<WebhookActionDeps> = {}) {
    const logs = { write: (line: string) => warnings.push(JSON.parse(line) as Record<string, unknown>) };
    return webhookAction({
      secrets: [SECRET],
      policy: createAddressPolicy({ allow: ['127.0.0.1/32'] }),
      resolver: { resolve4: async () => ['127.0.0.1'], resolve6: async () => [] },
      parser: { extractPart: async () => null },
      timeoutMs: 5000,
      userAgent: 'Mailroom/test',
      maxInlineBytes: 1024,
      endpoints: store,
      disableAfter: 3,
      attachmentUrls: NO_URLS,
      logger: createLogger('warn', logs),
      now: () => clock,
      ...over,
    });
  }
  const action = (): WebhookAction => ({ type: 'webhook', url, attachments: 'none' });

  it('disables the URL at the Nth failure in a row, once, with an event and a warning', async () => {
    replies = [503, 500, 404, 503];
    const run = executor();
    const results = [];
    for (let i = 0; i < 3; i++) {
      clock = NOW + i * 60_000;
      results.push(await run.execute(action(), ctx(i)));
    }
    assert.deepEqual(
      results.map((r) => r.outcome),
      ['retry', 'retry', 'failed'],
    );
    assert.equal(requests, 3);
    // Both kinds of failure count; the third says it disabled the endpoint.
    assert.deepEqual(
      store.outcomes.map((o) => [o.ok, o.disableAfter]),
      [
        [false, 3],
        [false, 3],
        [false, 3],
      ],
    );
    assert.match(store.outcomes[2]?.error ?? '', /404/);
    const last = results[2]!;
    assert.ok(last.outcome === 'failed');
    assert.match(last.reason, /404.*3 failures in a row disabled the endpoint/);

    const disabledAt = new Date(NOW + 120_000).toISOString();
    assert.equal(store.events.length, 1);
    const event = store.events[0]!;
    assert.match(event.id, new RegExp(`^webhook:disabled:[A-Za-z0-9_-]{16}:${disabledAt}$`));
    assert.deepEqual(
      { ...event, id: '' },
      {
        id: '',
        type: 'webhook:disabled',
        messageId: MESSAGE.id,
        routeId: 'tickets',
        data: { url, failures: 3, lastError: store.outcomes[2]?.error },
      },
    );
    const warned = warnings.filter((w) => /endpoint disabled/.test(String(w.msg)));
    assert.equal(warned.length, 1);
    // The log line leaves out the query, where receivers sometimes keep a token.
    assert.equal(warned[0]?.url, url.replace(/\?.*$/, ''));
    assert.equal(warned[0]?.job, job(2).id);

    // From now on: refused without a request, saying since when, why, and how to enable it.
    const refused = await run.execute(action(), ctx(3));
    assert.equal(requests, 3);
    assert.ok(refused.outcome === 'failed');
    assert.match(refused.reason, new RegExp(`disabled since ${disabledAt} after 3 failures in a row`));
    assert.match(refused.reason, /last: 404: receiver answered 404/);
    assert.match(
      refused.reason,
      /POST \/api\/v1\/webhooks\/endpoints\/enable \{"URL":"http:\/\/hook\.test:\d+\/inbound\?token=abc"\}/,
    );
    // Refusals are not attempts: nothing more is counted, no second event.
    assert.equal(store.outcomes.length, 3);
    assert.equal(store.events.length, 1);
  });

  it('a success resets the count, so failures around it do not add up', async () => {
    replies = [500, 500, 200, 500, 500];
    const run = executor();
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push((await run.execute(action(), ctx(i))).outcome);
    assert.deepEqual(outcomes, ['retry', 'retry', 'succeeded', 'retry', 'retry']);
    assert.equal(requests, 5);
    const e = store.endpoints.get(url);
    assert.equal(e?.consecutiveFailures, 2);
    assert.equal(e?.disabledAt, null);
    assert.equal(e?.lastSuccessAt, new Date(NOW).toISOString());
    assert.equal(store.events.length, 0);
    // Still enabled: the next one goes out.
    replies = [200];
    assert.equal((await run.execute(action(), ctx(5))).outcome, 'succeeded');
    assert.equal(requests, 6);
  });

  it('a disabled endpoint gets no connection at all', async () => {
    await store.recordWebhookOutcome({
      url,
      ok: false,
      error: 'receiver answered 500',
      now: 'x',
      disableAfter: 1,
    });
    let connections = 0;
    const count = () => {
      connections += 1;
    };
    server.on('connection', count);
    try {
      const result = await executor().execute(action(), ctx());
      assert.equal(result.outcome, 'failed');
      assert.equal(connections, 0);
      assert.equal(requests, 0);
    } finally {
      server.off('connection', count);
    }
  });

  it('with 0 it never disables, and posts to an endpoint disabled earlier', async () => {
    replies = [500];
    const run = executor({ disableAfter: 0 });
    for (let i = 0; i < 5; i++) assert.equal((await run.execute(action(), ctx(i))).outcome, 'retry');
    assert.equal(store.endpoints.get(url)?.consecutiveFailures, 5);
    assert.equal(store.endpoints.get(url)?.disabledAt, null);
    store.endpoints.get(url)!.disabledAt = new Date(NOW).toISOString();
    replies = [200];
    assert.equal((await run.execute(action(), ctx(5))).outcome, 'succeeded');
    assert.equal(requests, 6);
  });

  it('a delivered webhook stays delivered when its outcome cannot be recorded', async () => {
    store.failWrites = true;
    const result = await executor().execute(action(), ctx());
    assert.equal(result.outcome, 'succeeded');
    assert.equal(requests, 1);
    assert.ok(warnings.some((w) => /could not be recorded/.test(String(w.msg))));
  });

  it('an attempt cut short by the worker stopping is not counted against the endpoint', async () => {
    const stop = new AbortController();
    const slow = http.createServer(() => stop.abort());
    slow.listen(0, '127.0.0.1');
    await once(slow, 'listening');
    const slowUrl = `http://hook.test:${(slow.address() as AddressInfo).port}/`;
    try {
      const result = await executor().execute(
        { type: 'webhook', url: slowUrl, attachments: 'none' },
        ctx(0, stop.signal),
      );
      assert.equal(result.outcome, 'retry');
      assert.equal(store.outcomes.length, 0);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});
