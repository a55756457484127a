// Internationalized mail (RFC 6531) to servers with and without SMTPUTF8: a message that needs it
// is never sent to a server that does not offer it (no MAIL FROM, a permanent failure of our own),
// carries the SMTPUTF8 parameter where it is offered, and an IDN domain alone needs nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';
import { DeliveryWorker } from '../../src/outbound/delivery-worker.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../../src/outbound/retry-schedule.ts';
import {
  deliverOverSmtp,
  type SmtpLimits,
  type SmtpMessage,
  type SmtpTarget,
  utf8InAddressHeaders,
  wireAddress,
} from '../../src/outbound/smtp-client.ts';
import { RelayTransport } from '../../src/outbound/transports/relay.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { tempDir } from '../helpers/backends.ts';
import { outboundMessage } from '../helpers/fixtures.ts';
import { readData, type ScriptedSmtp, scriptedSmtp } from '../helpers/smtp-peer.ts';

const LIMITS: SmtpLimits = { connectMs: 2000, socketMs: 2000, attemptMs: 5000, maxReadBytes: 64 * 1024 };
const NO_UTF8 = /^553 5\.6\.7 remote server does not support SMTPUTF8 \(RFC 6531\)/;

function target(port: number): SmtpTarget {
  return { host: '127.0.0.1', port, tls: 'none', heloName: 'mailroom.test', verifyTls: false };
}

function message(mailFrom: string, recipients: string[], headers = 'From: app@shop.example'): SmtpMessage {
  const raw = `${headers}\r\nSubject: hello\r\n\r\nbody\r\n`;
  return { mailFrom, recipients, raw: new TextEncoder().encode(raw) };
}

interface Peer {
  port: number;
  /** Every command line the client sent, as UTF-8, in order (the message itself left out). */
  commands: string[];
  close(): Promise<void>;
}

/**
 * An SMTP server written out by hand, so the test decides what EHLO advertises and sees every
 * command as it arrived: it accepts every sender and recipient, and every message.
 */
async function peer(extensions: string[]): Promise<Peer> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    let inData = false;
    socket.write('220 peer.test ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (inData) {
          const end = pending.indexOf('\r\n.\r\n');
          if (end < 0) return;
          pending = pending.subarray(end + 5);
          inData = false;
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const eol = pending.indexOf('\r\n');
        if (eol < 0) return;
        const line = pending.subarray(0, eol).toString('utf8');
        pending = pending.subarray(eol + 2);
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          const lines = ['peer.test', ...extensions];
          socket.write(lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 2.0.0 bye\r\n');
          return;
        } else {
          socket.write('250 2.1.0 ok\r\n');
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const mailFromLines = (p: Peer) => p.commands.filter((c) => /^MAIL FROM:/i.test(c));
const rcptLines = (p: Peer) => p.commands.filter((c) => /^RCPT TO:/i.test(c));

describe('SMTPUTF8: a server that does not offer it', () => {
  let p: Peer;
  before(async () => {
    p = await peer(['8BITMIME', 'ENHANCEDSTATUSCODES']);
  });
  after(() => p.close());

  const deliver = async (m: SmtpMessage) => {
    p.commands.length = 0;
    return deliverOverSmtp(target(p.port), m, { limits: LIMITS });
  };

  it('is not sent a message for a non-ASCII recipient: no MAIL FROM, a permanent failure', async () => {
    const result = await deliver(message('app@shop.example', ['søren@example.com']));
    assert.equal(result.results.length, 1);
    const [r] = result.results;
    assert.equal(r?.address, 'søren@example.com');
    assert.equal(r?.outcome, 'bounced');
    assert.match(r!.reply, NO_UTF8);
    assert.match(r!.reply, /recipient address/);
    assert.deepEqual(mailFromLines(p), []);
    // Nothing but EHLO (and the QUIT, which may still be on its way when the result is in).
    assert.deepEqual(
      p.commands.filter((c) => !/^QUIT/i.test(c)).map((c) => c.split(' ')[0]),
      ['EHLO'],
    );
  });

  it('is not sent a message whose sender is non-ASCII, for any recipient', async () => {
    const result = await deliver(message('jörg@shop.example', ['ann@one.example', 'bob@one.example']));
    assert.deepEqual(
      result.results.map((r) => [r.address, r.outcome]),
      [
        ['ann@one.example', 'bounced'],
        ['bob@one.example', 'bounced'],
      ],
    );
    for (const r of result.results) assert.match(r.reply, /^553 5\.6\.7 .*needed for the sender address$/);
    assert.deepEqual(mailFromLines(p), []);
  });

  it('is not sent a message with UTF-8 in an address header, though the envelope is ASCII', async () => {
    const m = message(
      'app@shop.example',
      ['ann@one.example'],
      'From: app@shop.example\r\nReply-To: =?UTF-8?Q?J=C3=B6rg?=\r\n <jörg@bücher.example>',
    );
    const result = await deliver(m);
    assert.equal(result.results[0]?.outcome, 'bounced');
    assert.match(result.results[0]!.reply, /needed for an address header$/);
    assert.deepEqual(mailFromLines(p), []);
  });

  it('delivers to the ASCII recipients and fails only the one that needs SMTPUTF8', async () => {
    // A Bcc recipient is in the envelope only: the headers are ASCII.
    const result = await deliver(message('app@shop.example', ['ann@one.example', 'søren@one.example']));
    assert.deepEqual(
      result.results.map((r) => [r.address, r.outcome]),
      [
        ['ann@one.example', 'delivered'],
        ['søren@one.example', 'bounced'],
      ],
    );
    assert.deepEqual(mailFromLines(p), ['MAIL FROM:<app@shop.example>']);
    assert.deepEqual(rcptLines(p), ['RCPT TO:<ann@one.example>']);
  });

  it('sends IDN domains as A-labels, which need no SMTPUTF8', async () => {
    const result = await deliver(
      message('me@bücher.example', ['ann@BÜCHER.example', 'bob@xn--bcher-kva.example']),
    );
    // Each recipient is reported under the address the job gave.
    assert.deepEqual(
      result.results.map((r) => [r.address, r.outcome]),
      [
        ['ann@BÜCHER.example', 'delivered'],
        ['bob@xn--bcher-kva.example', 'delivered'],
      ],
    );
    assert.deepEqual(mailFromLines(p), ['MAIL FROM:<me@xn--bcher-kva.example>']);
    assert.deepEqual(rcptLines(p), [
      'RCPT TO:<ann@xn--bcher-kva.example>',
      'RCPT TO:<bob@xn--bcher-kva.example>',
    ]);
  });
});

describe('SMTPUTF8: a server that offers it', () => {
  let p: Peer;
  before(async () => {
    p = await peer(['8BITMIME', 'SMTPUTF8']);
  });
  after(() => p.close());

  const deliver = async (m: SmtpMessage) => {
    p.commands.length = 0;
    return deliverOverSmtp(target(p.port), m, { limits: LIMITS });
  };

  it('gets SMTPUTF8 on MAIL FROM for a non-ASCII address, and the address as it is', async () => {
    const result = await deliver(message('app@shop.example', ['søren@bücher.example']));
    assert.equal(result.results[0]?.outcome, 'delivered');
    assert.deepEqual(mailFromLines(p), ['MAIL FROM:<app@shop.example> SMTPUTF8']);
    // The domain is still an A-label: only the local part needs UTF-8.
    assert.deepEqual(rcptLines(p), ['RCPT TO:<søren@xn--bcher-kva.example>']);
  });

  it('gets SMTPUTF8 on MAIL FROM when only an address header needs it', async () => {
    const m = message('app@shop.example', ['ann@one.example'], 'From: Jörg <jörg@shop.example>');
    assert.equal((await deliver(m)).results[0]?.outcome, 'delivered');
    assert.deepEqual(mailFromLines(p), ['MAIL FROM:<app@shop.example> SMTPUTF8']);
  });

  it('gets no SMTPUTF8 for an ASCII message (RFC 6531 §3.2: SHOULD NOT)', async () => {
    // UTF-8 outside the address headers (an unstructured field) does not make the message need it.
    const m = message('app@bücher.example', ['ann@one.example'], 'From: app@shop.example\r\nX-Note: grüße');
    assert.equal((await deliver(m)).results[0]?.outcome, 'delivered');
    assert.deepEqual(mailFromLines(p), ['MAIL FROM:<app@xn--bcher-kva.example>']);
  });
});

describe('SMTPUTF8: with the scripted smtp-server', () => {
  let server: ScriptedSmtp;
  const seen: { smtpUtf8: boolean; from: string; to: string[]; data: string }[] = [];
  before(async () => {
    server = await scriptedSmtp({
      onData(stream, session, cb) {
        void readData(stream).then((data) => {
          const from = session.envelope.mailFrom;
          seen.push({
            smtpUtf8: Boolean((session.envelope as { smtpUtf8?: boolean }).smtpUtf8),
            from: from ? from.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          cb(null, 'Ok: queued');
        });
      },
    });
  });
  after(() => server.close());

  it('delivers a UTF-8 message in an SMTPUTF8 transaction, bytes intact', async () => {
    const raw = 'From: Søren <søren@shop.example>\r\nTo: ann@one.example\r\nSubject: hej\r\n\r\nHej!\r\n';
    const result = await deliverOverSmtp(
      target(server.port),
      { mailFrom: 'søren@shop.example', recipients: ['ann@one.example'], raw: new TextEncoder().encode(raw) },
      { limits: LIMITS },
    );
    assert.equal(result.results[0]?.outcome, 'delivered');
    assert.deepEqual(seen.at(-1), {
      smtpUtf8: true,
      from: 'søren@shop.example',
      to: ['ann@one.example'],
      data: raw,
    });
  });
});

describe('SMTPUTF8: the recorded reason', () => {
  let p: Peer;
  let storage: SqliteStorage;
  const dir = tempDir();
  before(async () => {
    p = await peer(['8BITMIME']);
    storage = await SqliteStorage.open(dir);
  });
  after(async () => {
    await storage.close();
    await p.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails the delivery for good, with the reply in the queue, after one attempt', async () => {
    const now = Date.parse('2026-11-24T10:00:00.000Z');
    const worker = new DeliveryWorker({
      queue: storage.outbound,
      transport: new RelayTransport({ target: target(p.port), limits: LIMITS }),
      schedule: DEFAULT_RETRY_SCHEDULE,
      logger: createLogger('silent'),
      owner: 'test-worker',
      concurrency: 1,
      leaseMs: 600_000,
      pollMs: 3_600_000,
      now: () => now,
      isHardBounce: () => false,
      onFailed: async () => {},
    });
    const m = outboundMessage(['søren@one.example'], 'From: app@shop.example\r\n\r\nhi\r\n', now);
    await storage.outbound.enqueue(m);
    await worker.runOnce();
    await worker.stop();
    const [delivery] = (await storage.outbound.get(m.id))!.deliveries;
    assert.equal(delivery?.state, 'bounced');
    assert.equal(delivery?.attempts, 1);
    assert.match(delivery!.lastReply ?? '', NO_UTF8);
    assert.deepEqual(
      delivery?.recipients.map((r) => [r.address, r.state]),
      [['søren@one.example', 'bounced']],
    );
    assert.match(delivery!.recipients[0]!.reply ?? '', NO_UTF8);
    assert.deepEqual(mailFromLines(p), []);
  });
});

describe('SMTPUTF8: what needs it', () => {
  it('converts only a Unicode domain to A-labels, leaving the local part and ASCII as they are', () => {
    assert.equal(wireAddress('ann@bücher.example'), 'ann@xn--bcher-kva.example');
    assert.equal(wireAddress('søren@Bücher.Example'), 'søren@xn--bcher-kva.example');
    assert.equal(wireAddress('Ann@Shop.Example'), 'Ann@Shop.Example');
    assert.equal(wireAddress(''), '');
  });

  it('finds UTF-8 in address headers only, folded lines included', () => {
    const head = (h: string) => new TextEncoder().encode(`${h}\r\n\r\nbody ø\r\n`);
    assert.equal(utf8InAddressHeaders(head('From: a@b.example\r\nSubject: grüße')), false);
    assert.equal(utf8InAddressHeaders(head('To: a@b.example,\r\n  jörg@b.example')), true);
    assert.equal(utf8InAddressHeaders(head('Resent-Cc: jörg@b.example')), true);
    assert.equal(utf8InAddressHeaders(head('X-To: jörg@b.example')), false);
  });
});
