// The SMTP client against real servers on loopback: a scripted smtp-server that answers per
// recipient, and raw sockets that misbehave (tarpit, endless reply, a drop in the middle of DATA).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  deliverOverSmtp,
  SmtpAttemptError,
  type SmtpLimits,
  type SmtpTarget,
} from '../../src/outbound/smtp-client.ts';
import { readData, type ScriptedSmtp, scriptedSmtp } from '../helpers/smtp-peer.ts';

const LIMITS: SmtpLimits = { connectMs: 2000, socketMs: 500, attemptMs: 1500, maxReadBytes: 64 * 1024 };

function target(port: number, over: Partial<SmtpTarget> = {}): SmtpTarget {
  return { host: '127.0.0.1', port, tls: 'none', heloName: 'mailroom.test', verifyTls: false, ...over };
}

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

/** A raw TCP server running `onSocket` for each connection. */
async function rawServer(
  onSocket: (s: net.Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('SMTP client', () => {
  const received: { from: string | false; to: string[]; data: string }[] = [];
  let server: ScriptedSmtp;
  let port: number;

  before(async () => {
    server = await scriptedSmtp({
      onRcptTo(address, _session, cb) {
        const local = address.address.split('@')[0];
        if (local === 'full') return cb(smtpError(452, '4.2.2 Mailbox full, try later'));
        if (local === 'gone') return cb(smtpError(550, '5.1.1 No such user here'));
        cb();
      },
      onData(stream, session, cb) {
        void readData(stream).then((data) => {
          if (data.includes('Subject: refuse')) return cb(smtpError(554, '5.7.1 Message refused as spam'));
          if (data.includes('Subject: later')) return cb(smtpError(451, '4.3.0 Temporary local problem'));
          const mailFrom = session.envelope.mailFrom;
          received.push({
            from: mailFrom ? mailFrom.address : false,
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          cb(null, 'Ok: queued as TEST1');
        });
      },
    });
    port = server.port;
  });
  after(() => server.close());

  it('reports each recipient by its own reply, and hands over the exact bytes', async () => {
    const raw = 'From: a@shop.example\r\nSubject: hello\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n';
    const result = await deliverOverSmtp(
      target(port),
      {
        mailFrom: 'a@shop.example',
        recipients: ['ok@one.example', 'full@one.example', 'gone@one.example'],
        raw: Buffer.from(raw),
      },
      { limits: LIMITS },
    );
    assert.deepEqual(
      result.results.map((r) => [r.address, r.outcome]),
      [
        ['ok@one.example', 'delivered'],
        ['full@one.example', 'deferred'],
        ['gone@one.example', 'bounced'],
      ],
    );
    assert.match(result.results[0]!.reply, /^250 .*queued as TEST1/);
    assert.match(result.results[1]!.reply, /^452 4\.2\.2 Mailbox full/);
    assert.match(result.results[2]!.reply, /^550 5\.1\.1 No such user/);
    const got = received.at(-1)!;
    assert.deepEqual([got.from, got.to], ['a@shop.example', ['ok@one.example']]);
    // Dot-stuffing on the wire is undone by the server: the bytes arrive as given.
    assert.equal(got.data, raw);
  });

  it('sends the null reverse-path for a DSN', async () => {
    const result = await deliverOverSmtp(
      target(port),
      { mailFrom: '', recipients: ['ok@one.example'], raw: Buffer.from('Subject: dsn\r\n\r\nx\r\n') },
      { limits: LIMITS },
    );
    assert.equal(result.results[0]?.outcome, 'delivered');
    // smtp-server reports MAIL FROM:<> as the empty address.
    assert.equal(received.at(-1)?.from, '');
  });

  it('applies a refusal after DATA to every accepted recipient, by its code', async () => {
    const message = (subject: string) => ({
      mailFrom: 'a@shop.example',
      recipients: ['ok@one.example', 'gone@one.example'],
      raw: Buffer.from(`Subject: ${subject}\r\n\r\nx\r\n`),
    });
    const refused = await deliverOverSmtp(target(port), message('refuse'), { limits: LIMITS });
    assert.deepEqual(
      refused.results.map((r) => [r.outcome, r.reply.slice(0, 9)]),
      [
        ['bounced', '554 5.7.1'],
        ['bounced', '550 5.1.1'],
      ],
    );
    const later = await deliverOverSmtp(target(port), message('later'), { limits: LIMITS });
    assert.deepEqual(
      later.results.map((r) => r.outcome),
      ['deferred', 'bounced'],
    );
  });

  it('defers every recipient when all are refused for a while, and bounces when all are refused for good', async () => {
    const r = await deliverOverSmtp(
      target(port),
      {
        mailFrom: 'a@shop.example',
        recipients: ['full@one.example', 'gone@one.example'],
        raw: Buffer.from('x\r\n'),
      },
      { limits: LIMITS },
    );
    assert.deepEqual(
      r.results.map((x) => x.outcome),
      ['deferred', 'bounced'],
    );
  });

  it('gives up on a tarpit that never greets', async () => {
    const tarpit = await rawServer(() => {});
    try {
      await assert.rejects(
        deliverOverSmtp(
          target(tarpit.port),
          { mailFrom: 'a@x.example', recipients: ['b@y.example'], raw: Buffer.from('x') },
          { limits: LIMITS },
        ),
        SmtpAttemptError,
      );
    } finally {
      await tarpit.close();
    }
  });

  it('gives up on an endless multi-line reply without reading it all', async () => {
    const flood = await rawServer((s) => {
      const line = Buffer.from(`220-${'x'.repeat(1000)}\r\n`);
      const pump = () => {
        while (!s.destroyed && s.write(line));
      };
      s.on('drain', pump);
      pump();
    });
    try {
      await assert.rejects(
        deliverOverSmtp(
          target(flood.port),
          { mailFrom: 'a@x.example', recipients: ['b@y.example'], raw: Buffer.from('x') },
          { limits: LIMITS },
        ),
        /more than 65536 bytes/,
      );
    } finally {
      await flood.close();
    }
  });

  it('defers, with the reason, when the server drops the connection in the middle of DATA', async () => {
    const dropper = await rawServer((s) => {
      s.write('220 dropper ESMTP\r\n');
      s.on('data', (d: Buffer) => {
        const text = d.toString();
        if (/^EHLO/i.test(text)) s.write('250-dropper\r\n250 PIPELINING\r\n');
        else if (/^DATA/im.test(text)) s.write('354 go on\r\n');
        else if (/^(MAIL|RCPT)/im.test(text))
          s.write(
            text
              .split('\r\n')
              .filter(Boolean)
              .map(() => '250 ok\r\n')
              .join(''),
          );
        else s.destroy();
      });
    });
    try {
      const r = await deliverOverSmtp(
        target(dropper.port),
        {
          mailFrom: 'a@x.example',
          recipients: ['b@y.example'],
          raw: Buffer.from('Subject: y\r\n\r\nbody\r\n'),
        },
        { limits: LIMITS },
      );
      assert.equal(r.results[0]?.outcome, 'deferred');
      assert.match(r.reply, /^451 4\.4\.0 /);
    } finally {
      await dropper.close();
    }
  });

  it('fails the attempt when nothing listens', async () => {
    const gone = await rawServer(() => {});
    const closedPort = gone.port;
    await gone.close();
    await assert.rejects(
      deliverOverSmtp(
        target(closedPort),
        { mailFrom: 'a@x.example', recipients: ['b@y.example'], raw: Buffer.from('x') },
        { limits: LIMITS },
      ),
      /ECONNREFUSED/,
    );
  });
});
