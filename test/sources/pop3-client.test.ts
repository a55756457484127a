// The POP3 client against a scripted POP3 server over a real loopback socket (the fault cases a
// real server will not produce on demand), then against a real Dovecot (TLS, STLS, the happy path).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pop3Client, type Pop3ClientOptions, Pop3Error } from '../../src/sources/pop3-client.ts';
import { type RunningDovecot, startDovecot } from '../helpers/dovecot.ts';

const GUARD = { timeout: 30_000 };
// Made per run: the scripted server accepts RIGHT and refuses anything else.
const RIGHT = randomBytes(9).toString('base64url');
const WRONG = randomBytes(9).toString('base64url');

interface FakeMessage {
  uid: string;
  raw: Buffer;
}

interface FakeOptions {
  messages?: FakeMessage[];
  /** CAPA lines; null answers CAPA with -ERR. */
  capa?: string[] | null;
  /** Handles a command before the defaults; returns true when it answered. */
  script?: (verb: string, arg: string, socket: net.Socket) => boolean;
}

interface FakeServer {
  port: number;
  /** Every command line received, over all connections. */
  commands: string[];
  /** Resolves when the first connection has closed. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** RFC 1939 §3: a leading "." is doubled, the response ends with a lone ".". */
function stuffed(raw: Buffer): string {
  const lines = raw.toString('latin1').split('\r\n');
  if (lines.at(-1) === '') lines.pop();
  return `${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}\r\n.\r\n`;
}

function defaultAnswer(verb: string, arg: string, messages: FakeMessage[], capa: string[] | null): string {
  const at = (n: string) => messages[Number(n) - 1];
  switch (verb) {
    case 'CAPA':
      return capa ? `+OK\r\n${capa.join('\r\n')}\r\n.\r\n` : '-ERR unknown command\r\n';
    case 'USER':
      return '+OK\r\n';
    case 'PASS':
      return arg === RIGHT ? '+OK logged in\r\n' : '-ERR [AUTH] invalid login\r\n';
    case 'STAT':
      return `+OK ${messages.length} ${messages.reduce((s, m) => s + m.raw.length, 0)}\r\n`;
    case 'UIDL':
      return `+OK\r\n${messages.map((m, i) => `${i + 1} ${m.uid}\r\n`).join('')}.\r\n`;
    case 'LIST':
      return `+OK\r\n${messages.map((m, i) => `${i + 1} ${m.raw.length}\r\n`).join('')}.\r\n`;
    case 'RETR':
      return at(arg) ? `+OK\r\n${stuffed(at(arg)!.raw)}` : '-ERR no such message\r\n';
    case 'DELE':
      return at(arg) ? '+OK\r\n' : '-ERR no such message\r\n';
    case 'QUIT':
      return '+OK bye\r\n';
    default:
      return '-ERR unknown command\r\n';
  }
}

async function fakePop3(options: FakeOptions = {}): Promise<FakeServer> {
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  let firstClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    firstClosed = resolve;
  });
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      firstClosed();
    });
    socket.on('error', () => {});
    socket.write('+OK fake POP3 ready\r\n');
    let pending = '';
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let i = pending.indexOf('\r\n'); i >= 0; i = pending.indexOf('\r\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 2);
        commands.push(line);
        const [verb = '', ...rest] = line.split(' ');
        const arg = rest.join(' ');
        if (options.script?.(verb.toUpperCase(), arg, socket)) continue;
        if (socket.destroyed) return;
        socket.write(
          defaultAnswer(verb.toUpperCase(), arg, options.messages ?? [], options.capa ?? ['UIDL', 'USER']),
        );
        if (verb.toUpperCase() === 'QUIT') socket.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    commands,
    closed,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function plain(port: number, extra: Partial<Pop3ClientOptions> = {}): Pop3ClientOptions {
  return { host: '127.0.0.1', port, tls: 'none', timeoutMs: 5000, ...extra };
}

async function rejectsWith(work: Promise<unknown>, code: string, text?: RegExp): Promise<Pop3Error> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof Pop3Error, `expected a Pop3Error, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (text) assert.match(err.message, text);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

const TRICKY = Buffer.from(
  'From: a@example.test\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nmiddle\r\n\r\n',
  'latin1',
);

describe('POP3 client against a scripted server', () => {
  it('reads CAPA, logs in, lists and retrieves with dot-unstuffing', GUARD, async () => {
    const fake = await fakePop3({ messages: [{ uid: 'u-1', raw: TRICKY }], capa: ['UIDL', 'USER', 'TOP'] });
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      assert.ok(client.has('uidl') && client.has('TOP') && !client.has('STLS'));
      await client.login('alice', RIGHT);
      assert.deepEqual(await client.stat(), { count: 1, octets: TRICKY.length });
      assert.deepEqual(await client.uidl(), [{ n: 1, uid: 'u-1' }]);
      assert.deepEqual(await client.list(), [{ n: 1, octets: TRICKY.length }]);
      assert.deepEqual(await client.retr(1, 1024), TRICKY);
      await client.dele(1);
      await client.quit();
      assert.deepEqual(fake.commands, [
        'CAPA',
        'USER alice',
        `PASS ${RIGHT}`,
        'STAT',
        'UIDL',
        'LIST',
        'RETR 1',
        'DELE 1',
        'QUIT',
      ]);
    } finally {
      await fake.close();
    }
  });

  it(
    'takes the whole message when LIST understates its size, and reports absurd sizes as they are',
    GUARD,
    async () => {
      const big = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(70)}\r\n`.repeat(100));
      const fake = await fakePop3({
        messages: [{ uid: 'u-1', raw: big }],
        script: (verb, _arg, socket) => {
          if (verb !== 'LIST') return false;
          socket.write('+OK\r\n1 10\r\n2 999999999999999\r\n.\r\n');
          return true;
        },
      });
      try {
        const client = await Pop3Client.connect(plain(fake.port));
        await client.login('alice', RIGHT);
        assert.deepEqual(await client.list(), [
          { n: 1, octets: 10 },
          { n: 2, octets: 999999999999999 },
        ]);
        assert.deepEqual(await client.retr(1, big.length), big);
        await client.quit();
      } finally {
        await fake.close();
      }
    },
  );

  it('fails a RETR over the cap with TOO_LARGE and closes the connection', GUARD, async () => {
    const raw = Buffer.from(`Subject: big\r\n\r\n${'y'.repeat(5000)}\r\n`);
    const fake = await fakePop3({ messages: [{ uid: 'u-1', raw }] });
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      await client.login('alice', RIGHT);
      await rejectsWith(client.retr(1, 1000), 'TOO_LARGE');
      await fake.closed;
      await rejectsWith(client.stat(), 'TOO_LARGE');
    } finally {
      await fake.close();
    }
  });

  it('accepts a message of exactly the cap', GUARD, async () => {
    const raw = Buffer.from('Subject: fits\r\n\r\n.body\r\n');
    const fake = await fakePop3({ messages: [{ uid: 'u-1', raw }] });
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      await client.login('alice', RIGHT);
      assert.deepEqual(await client.retr(1, raw.length), raw);
      await client.quit();
    } finally {
      await fake.close();
    }
  });

  it('stops an endless multi-line response at the listing cap and closes the connection', GUARD, async () => {
    const fake = await fakePop3({
      script: (verb, _arg, socket) => {
        if (verb !== 'UIDL') return false;
        socket.write('+OK\r\n');
        let n = 0;
        // Writes until the client hangs up: the listing never ends.
        const pump = () => {
          while (!socket.destroyed && socket.write(`${++n} uid-${n}\r\n`)) {}
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
        return true;
      },
    });
    try {
      const client = await Pop3Client.connect(plain(fake.port, { maxListingBytes: 64 * 1024 }));
      await client.login('alice', RIGHT);
      await rejectsWith(client.uidl(), 'TOO_LARGE', /65536/);
      await fake.closed;
    } finally {
      await fake.close();
    }
  });

  it('stops a line that never ends', GUARD, async () => {
    const fake = await fakePop3({
      script: (verb, _arg, socket) => {
        if (verb !== 'STAT') return false;
        socket.write(`+OK ${'9'.repeat(10_000)}`);
        return true;
      },
    });
    try {
      const client = await Pop3Client.connect(plain(fake.port, { maxLineBytes: 512 }));
      await client.login('alice', RIGHT);
      await rejectsWith(client.stat(), 'TOO_LARGE');
      await fake.closed;
    } finally {
      await fake.close();
    }
  });

  it('gives up on a command after its read deadline and closes the connection', GUARD, async () => {
    const fake = await fakePop3({ script: (verb) => verb === 'STAT' });
    try {
      const client = await Pop3Client.connect(plain(fake.port, { timeoutMs: 300 }));
      await client.login('alice', RIGHT);
      await rejectsWith(client.stat(), 'TIMEOUT', /STAT/);
      await fake.closed;
    } finally {
      await fake.close();
    }
  });

  it('reports a server that drops the connection in the middle of a RETR', GUARD, async () => {
    const fake = await fakePop3({
      script: (verb, _arg, socket) => {
        if (verb !== 'RETR') return false;
        socket.end('+OK\r\nSubject: half\r\n\r\nfirst lines only\r\n');
        return true;
      },
    });
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      await client.login('alice', RIGHT);
      await rejectsWith(client.retr(1, 1_000_000), 'CLOSED');
    } finally {
      await fake.close();
    }
  });

  it('still reads an answer that arrived before the server closed', GUARD, async () => {
    // The answer to the next command comes early, then the server hangs up: the line is there to
    // be read although the connection is gone (as with the +OK to QUIT).
    const fake = await fakePop3({
      script: (verb, _arg, socket) => verb === 'PASS' && Boolean(socket.end('+OK\r\n+OK 3 300\r\n')),
    });
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      await client.login('alice', RIGHT);
      await fake.closed;
      await sleep(50);
      assert.deepEqual(await client.stat(), { count: 3, octets: 300 });
      await rejectsWith(client.stat(), 'CLOSED');
    } finally {
      await fake.close();
    }
  });

  it('names a server without UIDL clearly', GUARD, async () => {
    const fake = await fakePop3({
      capa: ['USER'],
      script: (verb, _a, s) => verb === 'UIDL' && s.write('-ERR no\r\n'),
    });
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      await client.login('alice', RIGHT);
      assert.equal(client.has('UIDL'), false);
      await rejectsWith(client.uidl(), 'UNSUPPORTED', /does not support UIDL/);
      // A -ERR leaves the session usable.
      assert.deepEqual(await client.stat(), { count: 0, octets: 0 });
      await client.quit();
    } finally {
      await fake.close();
    }
  });

  it('refuses malformed and repeated unique-ids', GUARD, async () => {
    for (const listing of [
      '1 has space extra\r\n2 ok\r\n',
      '1 same\r\n2 same\r\n',
      `1 ${'x'.repeat(71)}\r\n`,
    ]) {
      const fake = await fakePop3({
        script: (verb, _a, s) => verb === 'UIDL' && s.write(`+OK\r\n${listing}.\r\n`),
      });
      try {
        const client = await Pop3Client.connect(plain(fake.port));
        await client.login('alice', RIGHT);
        await rejectsWith(client.uidl(), 'PROTOCOL');
        client.close();
      } finally {
        await fake.close();
      }
    }
  });

  it('reports a refused login with its response code and without the password', GUARD, async () => {
    const fake = await fakePop3();
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      const err = await rejectsWith(client.login('alice', WRONG), 'ERR', /invalid login/);
      assert.equal(err.responseCode, 'AUTH');
      assert.ok(!err.message.includes(WRONG));
      client.close();
    } finally {
      await fake.close();
    }
  });

  it('sends no command carrying a line break', GUARD, async () => {
    const fake = await fakePop3();
    try {
      const client = await Pop3Client.connect(plain(fake.port));
      await rejectsWith(client.login('alice', `${RIGHT}\r\nDELE 1`), 'PROTOCOL');
      await client.quit();
      assert.deepEqual(fake.commands, ['CAPA', 'QUIT']);
    } finally {
      await fake.close();
    }
  });

  it('fails on a greeting that is not +OK', GUARD, async () => {
    const server = net.createServer((s) => s.end('-ERR go away\r\n'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as net.AddressInfo).port;
      await rejectsWith(Pop3Client.connect(plain(port)), 'ERR', /go away/);
    } finally {
      server.close();
    }
  });

  it('refuses STLS when the server does not offer it, before sending credentials', GUARD, async () => {
    const fake = await fakePop3({ capa: ['UIDL', 'USER'] });
    try {
      await rejectsWith(Pop3Client.connect(plain(fake.port, { tls: 'starttls' })), 'TLS', /STLS/);
      assert.deepEqual(fake.commands, ['CAPA']);
    } finally {
      await fake.close();
    }
  });

  it(
    'refuses a session where the server sent data between its STLS answer and the handshake',
    GUARD,
    async () => {
      const fake = await fakePop3({
        capa: ['UIDL', 'STLS'],
        script: (verb, _a, s) => verb === 'STLS' && s.write('+OK begin TLS\r\n+OK injected\r\n'),
      });
      try {
        await rejectsWith(
          Pop3Client.connect(plain(fake.port, { tls: 'starttls' })),
          'TLS',
          /before the TLS handshake/,
        );
        assert.deepEqual(fake.commands, ['CAPA', 'STLS']);
      } finally {
        await fake.close();
      }
    },
  );
});

describe('POP3 client against Dovecot', () => {
  let dovecot: RunningDovecot;
  const message = (n: number) =>
    Buffer.from(`From: a@example.test\r\nSubject: m${n}\r\n\r\n.dot line ${n}\r\n`);

  before(async () => {
    dovecot = await startDovecot(['plainuser', 'tlsuser', 'stlsuser', 'deluser']);
  });
  after(async () => {
    await dovecot?.stop();
  });

  const options = (tls: Pop3ClientOptions['tls']): Pop3ClientOptions => ({
    host: '127.0.0.1',
    port: tls === 'implicit' ? dovecot.ports.pop3s : dovecot.ports.pop3,
    tls,
    tlsOptions: { ca: dovecot.ca },
    timeoutMs: 10_000,
  });

  for (const [tls, user] of [
    ['none', 'plainuser'],
    ['implicit', 'tlsuser'],
    ['starttls', 'stlsuser'],
  ] as const) {
    it(`retrieves messages byte for byte over ${tls}`, GUARD, async () => {
      await dovecot.append(user, message(1));
      await dovecot.append(user, message(2));
      const client = await Pop3Client.connect(options(tls));
      assert.equal(client.secure, tls !== 'none');
      assert.ok(client.has('UIDL'));
      await client.login(user, dovecot.passwords.get(user)!);
      assert.equal((await client.stat()).count, 2);
      const uids = await client.uidl();
      assert.equal(uids.length, 2);
      assert.notEqual(uids[0]!.uid, uids[1]!.uid);
      assert.deepEqual(await client.retr(1, 1_000_000), message(1));
      assert.deepEqual(await client.retr(2, 1_000_000), message(2));
      await client.quit();
    });
  }

  it('refuses a certificate it cannot verify', GUARD, async () => {
    await assert.rejects(Pop3Client.connect({ ...options('implicit'), tlsOptions: {} }), /certificate/i);
  });

  it('deletes at QUIT, and only at QUIT', GUARD, async () => {
    const password = dovecot.passwords.get('deluser')!;
    await dovecot.append('deluser', message(1));
    const dropped = await Pop3Client.connect(options('implicit'));
    await dropped.login('deluser', password);
    await dropped.dele(1);
    dropped.close();
    assert.equal((await dovecot.messages('deluser')).length, 1);
    const client = await Pop3Client.connect(options('implicit'));
    await client.login('deluser', password);
    await client.dele(1);
    await client.quit();
    assert.equal((await dovecot.messages('deluser')).length, 0);
  });

  it('reports a wrong password as a refused login', GUARD, async () => {
    const client = await Pop3Client.connect(options('implicit'));
    await rejectsWith(client.login('plainuser', WRONG), 'ERR');
    client.close();
  });
});
