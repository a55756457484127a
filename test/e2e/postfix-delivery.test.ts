// Outbound delivery to a real Postfix, the final destination for inbox.test (test/helpers/postfix.ts):
// Mailroom runs as a process with --outbound-transport relay pointed at it and sends what the
// send API queued; Postfix's virtual(8) stores it in Maildirs. The test reads those files: the
// bytes Mailroom queued arrive unchanged (compared with the queue after Mailroom stops), DKIM
// still verifies, and the queue shows Postfix's own 250 ("queued as <its queue ID>"), the ID its
// log delivered under. An address Postfix does not know is refused at RCPT (550 5.1.1) and the
// delivery ends bounced with Postfix's words.
//
// The mx transport needs DNS answers that name the loopback Postfix, and a Mailroom process asks
// the system resolver: there is no way to answer its DNS from a test. So mx is driven in-process,
// the transport itself with the resolver answered by the test, against the same Postfix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryJob } from '../../src/outbound/transport.ts';
import { type MxResolver, MxTransport } from '../../src/outbound/transports/mx.ts';
import type { Storage } from '../../src/storage/ports.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { freshPostgresDatabase, tempDir } from '../helpers/backends.ts';
import { verify } from '../helpers/dkim-verifier.ts';
import { type PostfixMailbox, type StoredMail, startPostfixMailbox } from '../helpers/postfix.ts';
import { BIN, type RunningMailroom, spawnMailroom } from '../helpers/process.ts';

const DOMAIN = 'inbox.test';

interface Outbound {
  MessageID: string;
  Size: number;
  Deliveries: {
    Domain: string;
    State: string;
    LastReply: string | null;
    Recipients: { Address: string; State: string; Reply: string }[];
  }[];
  Events: { Type: string }[];
}

let postfix: PostfixMailbox;

before(async () => {
  postfix = await startPostfixMailbox({ domain: DOMAIN, users: ['ann', 'bob', 'carol'] });
});

after(async () => {
  await postfix?.stop();
});

/**
 * The message as it reached Postfix: the stored file without the lines Postfix put in front
 * (Return-Path, X-Original-To and Delivered-To from virtual(8), then smtpd's Received), with the
 * CRLF line endings of SMTP that the Maildir file stores as LF.
 */
function asReceived(m: StoredMail): Buffer {
  const text = m.raw.toString('latin1');
  const received = new RegExp(
    `^Received: from [^\\n]*\\n(?:[ \\t][^\\n]*\\n)*?[ \\t]+by postfix-${postfix.port}\\.localhost \\(Postfix\\)[^\\n]*\\n(?:[ \\t][^\\n]*\\n)*`,
    'm',
  ).exec(text);
  assert.ok(received, `no Received line of this Postfix in\n${text.slice(0, 800)}`);
  const before = text.slice(0, received.index);
  assert.match(before, /^(?:(?:Return-Path|X-Original-To|Delivered-To): [^\n]*\n)*$/);
  return Buffer.from(text.slice(received.index + received[0].length).replace(/\n/g, '\r\n'), 'latin1');
}

/** The queue ID in Postfix's 250 reply to the end of DATA. */
function queueIdOf(reply: string): string {
  const id = /^250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)$/.exec(reply)?.[1];
  assert.ok(id, `not Postfix's 250 for a queued message: ${reply}`);
  return id;
}

async function waitForLog(pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = postfix
      .log()
      .split('\n')
      .find((l) => pattern.test(l));
    if (line) return line;
    await sleep(50);
  }
  assert.fail(`Postfix never logged ${pattern}; its log:\n${postfix.log()}`);
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`relay transport to a real Postfix: ${engine}`, () => {
    const dir = tempDir();
    const dataDir = path.join(dir, 'data');
    let dkim: { name: string; value: string };
    let databaseUrl = '';
    let drop: (() => Promise<void>) | null = null;
    let server: RunningMailroom;
    let base: string;
    /** Outbound IDs and what Postfix stored for them, for the byte comparison at the end. */
    const delivered: { id: string; stored: StoredMail }[] = [];

    before(async () => {
      const key = path.join(dir, 'shop.pem');
      const r = spawnSync(
        process.execPath,
        [BIN, 'dkim', 'keygen', '--domain', 'shop.example', '--selector', 'pf1', '--out', key],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      const value = /value: (v=DKIM1;.*)$/m.exec(r.stdout)?.[1];
      assert.ok(value, r.stdout);
      dkim = { name: 'pf1._domainkey.shop.example', value };
      if (engine === 'postgres') {
        const db = await freshPostgresDatabase();
        databaseUrl = db.url;
        drop = db.drop;
      }
      server = await spawnMailroom([
        '--data-dir',
        dataDir,
        ...(databaseUrl ? ['--database-url', databaseUrl] : []),
        '--outbound-transport',
        'relay',
        '--relay-host',
        `127.0.0.1:${postfix.port}`,
        '--relay-tls',
        'none',
        '--dkim-keys',
        `shop.example:pf1:${key}`,
        '--retry-first',
        '1h',
      ]);
      base = `http://127.0.0.1:${server.httpPort}`;
    });

    after(async () => {
      await server?.stop();
      await drop?.();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function send(body: Record<string, unknown>): Promise<string> {
      const res = await fetch(`${base}/api/v1/send`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Prefer: 'respond-async' },
        body: JSON.stringify({ From: { Email: 'orders@shop.example', Name: 'Shop' }, ...body }),
      });
      assert.equal(res.status, 202, await res.clone().text());
      return ((await res.json()) as { ID: string }).ID;
    }

    async function settled(id: string): Promise<Outbound> {
      for (let i = 0; i < 400; i++) {
        const o = (await (await fetch(`${base}/api/v1/outbound/${id}`)).json()) as Outbound;
        if (
          o.Deliveries.length > 0 &&
          o.Deliveries.every((d) => d.State !== 'queued' && d.State !== 'sending')
        )
          return o;
        await sleep(50);
      }
      assert.fail(`outbound ${id} never finished; Postfix's log:\n${postfix.log()}`);
    }

    it('delivers to every mailbox, and the queue shows the ID Postfix delivered under', async () => {
      const subject = `Order shipped (${engine}) – n° 42`;
      const text = `Hello Ann,\n\n.a line that starts with a dot\nTotal: 12.00 €\n-- \nShop ${engine}\n`;
      const id = await send({
        To: [{ Email: `ann@${DOMAIN}`, Name: 'Ann' }],
        Cc: [{ Email: `bob@${DOMAIN}` }],
        Bcc: [`carol@${DOMAIN}`],
        Subject: subject,
        Text: text,
      });
      const o = await settled(id);
      assert.equal(o.Deliveries.length, 1);
      const d = o.Deliveries[0]!;
      assert.equal(d.State, 'delivered', JSON.stringify(d));
      assert.deepEqual(d.Recipients.map((r) => [r.Address, r.State]).sort(), [
        [`ann@${DOMAIN}`, 'delivered'],
        [`bob@${DOMAIN}`, 'delivered'],
        [`carol@${DOMAIN}`, 'delivered'],
      ]);
      // One transaction: every recipient has Postfix's one reply to the end of DATA.
      const queueId = queueIdOf(d.LastReply ?? '');
      for (const r of d.Recipients) assert.equal(r.Reply, d.LastReply);
      assert.ok(o.Events.some((e) => e.Type === 'delivery:delivered'));

      // Postfix delivered that queue ID to each Maildir.
      for (const user of ['ann', 'bob', 'carol']) {
        await waitForLog(
          new RegExp(
            `${queueId}: to=<${user}@${reEscape(DOMAIN)}>, relay=virtual.*status=sent \\(delivered to maildir\\)`,
          ),
        );
      }
      const stored = await postfix.waitForMail((m) => m.header('Message-ID')[0] === o.MessageID, 3);
      assert.deepEqual(stored.map((m) => m.user).sort(), ['ann', 'bob', 'carol']);
      for (const m of stored) {
        assert.equal(m.header('Delivered-To')[0], `${m.user}@${DOMAIN}`);
        assert.match(m.header('Received')[0] ?? '', new RegExp(`with ESMTP id ${queueId}`));
        assert.match(m.header('From')[0] ?? '', /^Shop <orders@shop\.example>$/);
        assert.match(m.header('To')[0] ?? '', /^Ann <ann@inbox\.test>$/);
        assert.equal(m.header('Cc')[0], `bob@${DOMAIN}`);
        // Bcc is the envelope's business only.
        assert.deepEqual(m.header('Bcc'), []);
        // RFC 2047 encoded, as Mailroom wrote it; decoded it is the subject sent.
        const encoded = m.header('Subject')[0] ?? '';
        assert.equal(decodeWords(encoded), subject);
        // The dot-stuffed line is whole again, and the 8-bit text arrived in its transfer encoding.
        assert.match(m.body, /^\.a line that starts with a dot$/m);
        assert.equal(asReceived(m).byteLength, o.Size);
        const check = verify(asReceived(m), dkim);
        assert.equal(check.ok, true, check.log);
      }
      delivered.push({ id, stored: stored[0]! });
    });

    it('ends bounced with Postfix words when Postfix does not know the address', async () => {
      const id = await send({ To: [{ Email: `ghost@${DOMAIN}` }], Subject: `Nobody (${engine})`, Text: 'x' });
      const o = await settled(id);
      const d = o.Deliveries[0]!;
      assert.equal(d.State, 'bounced', JSON.stringify(d));
      const reply = d.Recipients[0]!.Reply;
      assert.equal(d.Recipients[0]!.State, 'bounced');
      assert.match(
        reply,
        new RegExp(
          `^550 5\\.1\\.1 <ghost@${reEscape(DOMAIN)}>: Recipient address rejected: User unknown in virtual mailbox table`,
        ),
      );
      assert.match(d.LastReply ?? '', /^550 5\.1\.1 /);
      assert.ok(o.Events.some((e) => e.Type === 'delivery:bounced'));
      // Those are the words Postfix logged as it refused the RCPT.
      await waitForLog(new RegExp(`NOQUEUE: reject: RCPT from [^:]*: ${reEscape(reply)}`));
      assert.deepEqual(postfix.messages('ghost'), []);
    });

    it('delivers the known address and bounces the unknown one in the same transaction', async () => {
      const subject = `Half known (${engine})`;
      const id = await send({
        To: [{ Email: `bob@${DOMAIN}` }, { Email: `nobody-${engine}@${DOMAIN}` }],
        Subject: subject,
        Text: 'for bob',
      });
      const o = await settled(id);
      const d = o.Deliveries[0]!;
      const byAddress = new Map(d.Recipients.map((r) => [r.Address, r]));
      assert.equal(byAddress.get(`bob@${DOMAIN}`)?.State, 'delivered');
      const queueId = queueIdOf(byAddress.get(`bob@${DOMAIN}`)!.Reply);
      assert.equal(byAddress.get(`nobody-${engine}@${DOMAIN}`)?.State, 'bounced');
      assert.match(byAddress.get(`nobody-${engine}@${DOMAIN}`)!.Reply, /^550 5\.1\.1 .*User unknown/);
      // A delivery with a refused recipient has failed, as a whole, for good.
      assert.equal(d.State, 'bounced');
      const [stored] = await postfix.waitForMail((m) => m.header('Message-ID')[0] === o.MessageID);
      assert.equal(stored!.user, 'bob');
      assert.match(stored!.header('Received')[0] ?? '', new RegExp(`with ESMTP id ${queueId}`));
      delivered.push({ id, stored: stored! });
    });

    it('stored the very bytes Mailroom queued (compared once Mailroom has stopped)', async () => {
      assert.equal(delivered.length, 2, 'the delivery tests above ran');
      assert.equal(await server.stop(), 0);
      const storage: Storage = databaseUrl
        ? await PostgresStorage.open(databaseUrl)
        : await SqliteStorage.open(dataDir);
      try {
        for (const { id, stored } of delivered) {
          const queued = await storage.outbound.raw(id);
          assert.ok(queued, `outbound ${id} has no bytes in the queue`);
          const received = asReceived(stored);
          assert.equal(received.toString('latin1'), Buffer.from(queued).toString('latin1'));
        }
      } finally {
        await storage.close();
      }
    });
  });
}

/** Decodes a header value made of RFC 2047 encoded words (UTF-8, B or Q), joined as bytes. */
function decodeWords(value: string): string {
  const bytes: Buffer[] = [];
  const words = /=\?utf-8\?([bq])\?([^?]*)\?=|([^=]+|=)/gi;
  for (const [, enc, data, plain] of value.replace(/\?=\s+=\?/g, '?==?').matchAll(words)) {
    if (plain !== undefined) bytes.push(Buffer.from(plain, 'utf8'));
    else if (enc!.toLowerCase() === 'b') bytes.push(Buffer.from(data!, 'base64'));
    else
      bytes.push(
        Buffer.from(
          data!
            .replace(/_/g, ' ')
            .replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
          'latin1',
        ),
      );
  }
  return Buffer.concat(bytes).toString('utf8');
}

describe('mx transport to a real Postfix (in-process: DNS answered by the test)', () => {
  const zone: MxResolver = {
    resolveMx: async (d) => {
      if (d === DOMAIN) return [{ exchange: `mx1.${DOMAIN}`, priority: 10 }];
      throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
    },
    resolve4: async (h) => {
      if (h === `mx1.${DOMAIN}`) return ['127.0.0.1'];
      throw Object.assign(new Error('no such name'), { code: 'ENOTFOUND' });
    },
    resolve6: async () => {
      throw Object.assign(new Error('no such name'), { code: 'ENODATA' });
    },
  };
  const transport = () =>
    new MxTransport({
      resolver: zone,
      heloName: 'mailroom.test',
      requireTls: false,
      allowInternal: true,
      port: postfix.port,
      limits: { connectMs: 5000, socketMs: 10_000, attemptMs: 20_000, maxReadBytes: 65536 },
    });
  const job = (recipients: string[], raw: string): DeliveryJob => ({
    outboundId: 'O'.repeat(22),
    deliveryId: 'D'.repeat(22),
    domain: DOMAIN,
    mailFrom: 'app@shop.example',
    recipients,
    raw: Buffer.from(raw, 'latin1'),
    source: 'api',
    client: { ip: '', authUser: null },
    attempt: 1,
  });
  const signal = new AbortController().signal;

  it("delivers through the domain's MX, byte for byte", async () => {
    const messageId = `<mx-${Date.now()}@shop.example>`;
    const raw =
      'From: App <app@shop.example>\r\nTo: ann@inbox.test\r\nSubject: Through the MX\r\n' +
      `Message-ID: ${messageId}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: text/plain; charset=us-ascii\r\n\r\nline one\r\n.\r\n..two dots\r\n.\r\n\r\nlast line\r\n';
    const result = await transport().deliver(job([`ann@${DOMAIN}`, `bob@${DOMAIN}`], raw), signal);
    const queueId = queueIdOf(result.reply);
    assert.deepEqual(
      result.results.map((r) => [r.address, r.outcome, r.reply]),
      [
        [`ann@${DOMAIN}`, 'delivered', result.reply],
        [`bob@${DOMAIN}`, 'delivered', result.reply],
      ],
    );
    const stored = await postfix.waitForMail((m) => m.header('Message-ID')[0] === messageId, 2);
    for (const m of stored) {
      assert.match(m.header('Received')[0] ?? '', /^from mailroom\.test \(localhost \[127\.0\.0\.1\]\)/);
      assert.match(m.header('Received')[0] ?? '', new RegExp(`with ESMTP id ${queueId}`));
      assert.equal(asReceived(m).toString('latin1'), raw);
    }
  });

  it("bounces an address Postfix does not know, with Postfix's reply", async () => {
    const raw = 'From: app@shop.example\r\nTo: ghost@inbox.test\r\nSubject: x\r\n\r\nx\r\n';
    const result = await transport().deliver(job([`ghost@${DOMAIN}`], raw), signal);
    assert.equal(result.results.length, 1);
    assert.equal(result.results[0]!.outcome, 'bounced');
    assert.match(
      result.results[0]!.reply,
      /^550 5\.1\.1 <ghost@inbox\.test>: Recipient address rejected: User unknown in virtual mailbox table/,
    );
  });
});
