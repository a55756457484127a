// SmtpWire framing over a real TCP socket pair: command lines, message data with dot-unstuffing,
// the terminator however the bytes are cut into chunks, pipelining, the size limit, the framing
// scan, and the order of lines while the handler is busy.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import { type MessageData, SmtpWire } from '../../src/smtp/wire.ts';

type Event =
  | { kind: 'line'; line: string }
  | { kind: 'data'; data: MessageData }
  | { kind: 'mark'; name: string };

interface PairOptions {
  /** The size limit passed to startData. */
  max?: number;
  /** Called for each line after it is recorded; its result is returned to the wire. */
  onLine?: (line: string) => void | Promise<void>;
  /** Called for each message after it is recorded; its result is returned to the wire. */
  onData?: (data: MessageData) => Promise<void>;
}

const open: Pair[] = [];
after(() => {
  for (const p of open) p.close();
});

/** A client socket connected to a server socket wrapped in SmtpWire with a recording handler. */
class Pair {
  readonly events: Event[] = [];
  /** Bytes the server side has received so far. */
  received = 0;
  client!: net.Socket;
  wire!: SmtpWire;
  private server!: net.Server;
  private waiters: (() => void)[] = [];
  private closed = false;

  static async open(opts: PairOptions = {}): Promise<Pair> {
    const pair = new Pair();
    open.push(pair);
    const max = opts.max ?? 1024 * 1024;
    const accepted = new Promise<net.Socket>((resolve) => {
      pair.server = net.createServer((socket) => resolve(socket));
    });
    await new Promise<void>((resolve) => pair.server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = pair.server.address() as net.AddressInfo;
    pair.client = net.connect({ port, host: '127.0.0.1', noDelay: true });
    pair.client.on('error', () => {});
    const socket = await accepted;
    socket.on('error', () => {});
    pair.wire = new SmtpWire(socket, {
      chunk: (chunk) => {
        pair.received += chunk.length;
        pair.wake();
      },
      line: (line) => {
        pair.events.push({ kind: 'line', line });
        if (/^DATA$/i.test(line)) pair.wire.startData(max);
        pair.wake();
        return opts.onLine?.(line);
      },
      data: (data) => {
        pair.events.push({ kind: 'data', data });
        pair.wake();
        return opts.onData ? opts.onData(data) : Promise.resolve();
      },
    });
    return pair;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `fn` holds, re-checking after each event; fails after `ms`. */
  async until(fn: () => boolean, what: string, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!fn()) {
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; events: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Writes `bytes` and waits until the server side has received all of them (one chunk or more). */
  async send(bytes: string | Buffer): Promise<void> {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const target = this.received + buf.length;
    this.client.write(buf);
    await this.until(() => this.received >= target, `${target} bytes received`);
  }

  lines(): string[] {
    return this.events.flatMap((e) => (e.kind === 'line' ? [e.line] : []));
  }

  messages(): MessageData[] {
    return this.events.flatMap((e) => (e.kind === 'data' ? [e.data] : []));
  }

  /** The events in a compact form: lines as text, data as DATA<raw>, marks as !name. */
  summary(): string[] {
    return this.events.map((e) =>
      e.kind === 'line'
        ? e.line
        : e.kind === 'data'
          ? `DATA<${e.data.raw.toString('latin1')}>`
          : `!${e.name}`,
    );
  }

  describe(): string {
    return JSON.stringify(this.summary());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.destroy();
    this.wire.current.destroy();
    this.server.close();
  }
}

/** Sends DATA, waits for it to be handled, then sends `body` in one write and waits for the message. */
async function message(pair: Pair, body: string | Buffer): Promise<MessageData> {
  const before = pair.messages().length;
  await pair.send('DATA\r\n');
  await pair.send(body);
  await pair.until(() => pair.messages().length > before, 'the message');
  return pair.messages()[before]!;
}

describe('SmtpWire: message data', () => {
  test('dot-stuffed lines lose exactly one leading dot', async () => {
    const pair = await Pair.open();
    const m = await message(pair, '..first\r\nplain\r\n..x\r\n...y\r\nmid.dle.\r\n.\r\n');
    assert.equal(m.raw.toString('latin1'), '.first\r\nplain\r\n.x\r\n..y\r\nmid.dle.\r\n');
    assert.equal(m.sizeExceeded, false);
    assert.equal(m.scan.bareLineEnding, false);
    pair.close();
  });

  test('a line that is just ".." is a line that is just "."', async () => {
    const pair = await Pair.open();
    const m = await message(pair, 'a\r\n..\r\nb\r\n.\r\n');
    assert.equal(m.raw.toString('latin1'), 'a\r\n.\r\nb\r\n');
    const first = await message(pair, '..\r\n.\r\n');
    assert.equal(first.raw.toString('latin1'), '.\r\n');
    const last = await message(pair, 'a\r\n..\r\n.\r\n');
    assert.equal(last.raw.toString('latin1'), 'a\r\n.\r\n');
    pair.close();
  });

  test('the terminator and stuffed dots split at every position give the same bytes', async () => {
    const body = 'Subject: split\r\n\r\n..leading\r\n..\r\nmid\r\n...\r\n.x.\r\nlast line\r\n.\r\n';
    const expected = 'Subject: split\r\n\r\n.leading\r\n.\r\nmid\r\n..\r\nx.\r\nlast line\r\n';
    // A command follows the terminator in the same bytes: the data must end exactly where it does.
    const payload = `${body}NOOP\r\n`;
    for (let i = 1; i < payload.length; i++) {
      const pair = await Pair.open();
      await pair.send('DATA\r\n');
      await pair.send(payload.slice(0, i));
      await pair.send(payload.slice(i));
      await pair.until(() => pair.lines().length === 2, `NOOP after split at ${i}`);
      assert.deepEqual(pair.summary(), ['DATA', `DATA<${expected}>`, 'NOOP'], `split at ${i}`);
      const [m] = pair.messages();
      assert.equal(m!.sizeExceeded, false, `split at ${i}`);
      assert.equal(m!.scan.bareLineEnding, false, `split at ${i}`);
      assert.equal(m!.scan.longestLine, 'Subject: split\r\n'.length, `split at ${i}`);
      pair.close();
    }
  });

  test('the message sent one byte per chunk gives the same bytes', async () => {
    const pair = await Pair.open();
    await pair.send('DATA\r\n');
    const payload = 'a\r\n..b\r\n..\r\n\r\n.c\r\n.\r\nRSET\r\n';
    for (const ch of payload) await pair.send(ch);
    await pair.until(() => pair.lines().length === 2, 'RSET');
    assert.deepEqual(pair.summary(), ['DATA', 'DATA<a\r\n.b\r\n.\r\n\r\nc\r\n>', 'RSET']);
    pair.close();
  });

  test('DATA and the message in one write, split at every position, give the same bytes', async () => {
    const payload = 'DATA\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n';
    for (let i = 1; i < payload.length; i++) {
      const pair = await Pair.open();
      await pair.send(payload.slice(0, i));
      await pair.send(payload.slice(i));
      await pair.until(() => pair.lines().length === 2, `QUIT after split at ${i}`);
      assert.deepEqual(pair.summary(), ['DATA', 'DATA<hello\r\n.dot\r\n>', 'QUIT'], `split at ${i}`);
      pair.close();
    }
  });

  test('an empty message: DATA then the terminator at once', async () => {
    const pair = await Pair.open();
    const m = await message(pair, '.\r\n');
    assert.equal(m.raw.length, 0);
    assert.equal(m.sizeExceeded, false);
    assert.equal(m.scan.bareLineEnding, false);
    assert.equal(m.scan.longestLine, 0);
    await pair.send('NOOP\r\n');
    await pair.until(() => pair.lines().length === 2, 'NOOP');
    assert.deepEqual(pair.summary(), ['DATA', 'DATA<>', 'NOOP']);
    pair.close();
  });

  test('commands pipelined after the terminator in the same write come afterwards, in order', async () => {
    const pair = await Pair.open();
    await pair.send('DATA\r\n');
    await pair.send('hello\r\n.\r\nRSET\r\nMAIL FROM:<a@example.test>\r\nNOOP\r\nQUIT\r\n');
    await pair.until(() => pair.lines().length === 5, 'four lines after the message');
    assert.deepEqual(pair.summary(), [
      'DATA',
      'DATA<hello\r\n>',
      'RSET',
      'MAIL FROM:<a@example.test>',
      'NOOP',
      'QUIT',
    ]);
    pair.close();
  });

  test('a whole pipelined transaction in one write, two messages back to back', async () => {
    const pair = await Pair.open();
    await pair.send(
      'MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\none\r\n.\r\n' +
        'MAIL FROM:<c@example.test>\r\nRCPT TO:<d@example.test>\r\nDATA\r\n..two\r\n.\r\nQUIT\r\n',
    );
    await pair.until(() => pair.lines().includes('QUIT'), 'QUIT');
    assert.deepEqual(pair.summary(), [
      'MAIL FROM:<a@example.test>',
      'RCPT TO:<b@example.test>',
      'DATA',
      'DATA<one\r\n>',
      'MAIL FROM:<c@example.test>',
      'RCPT TO:<d@example.test>',
      'DATA',
      'DATA<.two\r\n>',
      'QUIT',
    ]);
    pair.close();
  });

  test('"\\n.\\n" and "\\r\\n.\\n" do not end the data', async () => {
    const pair = await Pair.open();
    const m = await message(pair, 'a\n.\nb\r\n.\nc\r\n.\r\n');
    // After a CRLF, the line is ".\nc": a leading dot with more on the line, so the dot is stuffing.
    assert.equal(m.raw.toString('latin1'), 'a\n.\nb\r\n\nc\r\n');
    assert.equal(m.scan.bareLineEnding, true);
    pair.close();
  });
});

describe('SmtpWire: the size limit', () => {
  test('more than the limit: sizeExceeded, raw capped, and reading ends at the terminator', async () => {
    const max = 100;
    const pair = await Pair.open({ max });
    const body = `${'x'.repeat(60)}\r\n`.repeat(10);
    await pair.send('DATA\r\n');
    // In several writes, so that the reader sees several chunks.
    for (let i = 0; i < 10; i++) await pair.send(`${'x'.repeat(60)}\r\n`);
    await pair.send('.\r\nNOOP\r\n');
    await pair.until(() => pair.lines().length === 2, 'NOOP after the message');
    const [m] = pair.messages();
    assert.equal(m!.sizeExceeded, true);
    assert.ok(m!.raw.length <= max, `raw has ${m!.raw.length} bytes`);
    assert.ok(body.startsWith(m!.raw.toString('latin1')), 'raw is the start of the message');
    assert.deepEqual(pair.lines(), ['DATA', 'NOOP']);
    pair.close();
  });

  test('exactly the limit is not exceeded; one byte more is', async () => {
    const pair = await Pair.open({ max: 10 });
    const exact = await message(pair, '12345678\r\n.\r\n');
    assert.equal(exact.sizeExceeded, false);
    assert.equal(exact.raw.toString('latin1'), '12345678\r\n');
    const over = await message(pair, '123456789\r\n.\r\n');
    assert.equal(over.sizeExceeded, true);
    assert.ok(over.raw.length <= 10, `raw has ${over.raw.length} bytes`);
    pair.close();
  });

  test('the limit counts unstuffed bytes: stuffing dots do not count', async () => {
    const pair = await Pair.open({ max: 10 });
    const m = await message(pair, '..234567\r\n.\r\n');
    assert.equal(m.sizeExceeded, false);
    assert.equal(m.raw.toString('latin1'), '.234567\r\n');
    pair.close();
  });

  test('a capped raw is a prefix of the message, never a later piece of it', async () => {
    // One long line (over the limit), then short stuffed lines that would fit on their own.
    const pair = await Pair.open({ max: 10 });
    const m = await message(pair, '0123456789ABCDEF\r\n..x\r\n.\r\n');
    assert.equal(m.sizeExceeded, true);
    assert.ok(
      '0123456789ABCDEF\r\n.x\r\n'.startsWith(m.raw.toString('latin1')),
      `raw ${JSON.stringify(m.raw.toString('latin1'))} is not a prefix of the message`,
    );
    pair.close();
  });
});

describe('SmtpWire: the framing scan', () => {
  test('CRLF-only data has no bare line ending and the longest line is measured with its CRLF', async () => {
    const pair = await Pair.open();
    const m = await message(pair, 'ab\r\nabcdef\r\n\r\nabc\r\n.\r\n');
    assert.deepEqual(m.scan, { bareLineEnding: false, longestLine: 8 });
    pair.close();
  });

  test('a bare LF is detected', async () => {
    const pair = await Pair.open();
    const m = await message(pair, 'Subject: x\n\r\nbody\r\n.\r\n');
    assert.equal(m.scan.bareLineEnding, true);
    assert.equal(m.raw.toString('latin1'), 'Subject: x\n\r\nbody\r\n');
    pair.close();
  });

  test('a bare CR is detected', async () => {
    const pair = await Pair.open();
    const m = await message(pair, 'Subject: x\r\n\r\nbo\rdy\r\n.\r\n');
    assert.equal(m.scan.bareLineEnding, true);
    pair.close();
  });

  test('a bare LF or CR is detected wherever the chunks are cut', async () => {
    for (const body of ['ab\ncd\r\n.\r\n', 'ab\rcd\r\n.\r\n', 'ab\r\r\n.\r\n', 'ab\n\r\n.\r\n']) {
      for (let i = 1; i < body.length; i++) {
        const pair = await Pair.open();
        await pair.send('DATA\r\n');
        await pair.send(body.slice(0, i));
        await pair.send(body.slice(i));
        await pair.until(() => pair.messages().length === 1, 'the message');
        const [m] = pair.messages();
        const label = `${JSON.stringify(body)} split at ${i}`;
        assert.equal(m!.scan.bareLineEnding, true, label);
        assert.equal(m!.raw.toString('latin1'), body.slice(0, -3), label);
        pair.close();
      }
    }
  });
});

describe('SmtpWire: command lines', () => {
  test('lines end in CRLF or a lone LF; either ending is removed', async () => {
    const pair = await Pair.open();
    await pair.send('NOOP\r\nRSET\nEHLO client.example.test\r\nQUIT\n');
    await pair.until(() => pair.lines().length === 4, 'four lines');
    assert.deepEqual(pair.lines(), ['NOOP', 'RSET', 'EHLO client.example.test', 'QUIT']);
    pair.close();
  });

  test('a line cut across writes, even between CR and LF, is one line', async () => {
    const pair = await Pair.open();
    await pair.send('NO');
    await pair.send('OP\r');
    assert.deepEqual(pair.lines(), [], 'no line before its LF');
    await pair.send('\nRS');
    await pair.send('ET\n');
    await pair.until(() => pair.lines().length === 2, 'two lines');
    assert.deepEqual(pair.lines(), ['NOOP', 'RSET']);
    pair.close();
  });

  test('an empty line is delivered as an empty string', async () => {
    const pair = await Pair.open();
    await pair.send('\r\nNOOP\r\n');
    await pair.until(() => pair.lines().length === 2, 'two lines');
    assert.deepEqual(pair.lines(), ['', 'NOOP']);
    pair.close();
  });

  test('a line handler that returns a pending promise holds the pipelined lines until it settles', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pair = await Pair.open({ onLine: (line) => (line === 'SLOW' ? held : undefined) });
    await pair.send('FIRST\r\nSLOW\r\nA\r\nB\r\nC\r\n');
    await pair.until(() => pair.lines().includes('SLOW'), 'SLOW');
    // Give the wire every chance to run ahead.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pair.summary(), ['FIRST', 'SLOW']);
    pair.events.push({ kind: 'mark', name: 'released' });
    release();
    await pair.until(() => pair.lines().length === 5, 'the held lines');
    assert.deepEqual(pair.summary(), ['FIRST', 'SLOW', '!released', 'A', 'B', 'C']);
    pair.close();
  });

  test('a line handler whose promise rejects does not stop the lines after it', async () => {
    const pair = await Pair.open({
      onLine: (line) => (line === 'FAIL' ? Promise.reject(new Error('handler failed')) : undefined),
    });
    await pair.send('FAIL\r\nNEXT\r\n');
    await pair.until(() => pair.lines().length === 2, 'NEXT');
    assert.deepEqual(pair.lines(), ['FAIL', 'NEXT']);
    pair.close();
  });

  test('lines that arrive while a handler is pending are delivered in arrival order', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pair = await Pair.open({ onLine: (line) => (line === 'SLOW' ? held : undefined) });
    await pair.send('SLOW\r\nA\r\n');
    await pair.send('B\r');
    await pair.send('\nC\r\n');
    assert.deepEqual(pair.lines(), ['SLOW']);
    release();
    await pair.until(() => pair.lines().length === 4, 'the held lines');
    assert.deepEqual(pair.lines(), ['SLOW', 'A', 'B', 'C']);
    pair.close();
  });

  test('the data handler holds the lines after the message until its promise settles', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pair = await Pair.open({ onData: () => held });
    await pair.send('DATA\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n');
    await pair.until(() => pair.messages().length === 1, 'the message');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(pair.summary(), ['DATA', 'DATA<body\r\n>']);
    pair.events.push({ kind: 'mark', name: 'released' });
    release();
    await pair.until(() => pair.lines().length === 3, 'the held lines');
    assert.deepEqual(pair.summary(), ['DATA', 'DATA<body\r\n>', '!released', 'NOOP', 'QUIT']);
    pair.close();
  });
});

describe('SmtpWire: a client that pipelines without reading', () => {
  test('stops cutting lines while its replies wait unread, and goes on in order once they are read', async () => {
    const reply = 'x'.repeat(4000);
    const pair = await Pair.open({ onLine: () => pair.wire.reply(250, reply) });
    // More than the wire keeps unread (64 KiB) once it stops cutting.
    const total = 20_000;
    // The client reads nothing: the replies fill the socket buffers, then the wire's write buffer.
    pair.client.pause();
    pair.client.write('NOOP\r\n'.repeat(total));
    await pair.until(() => pair.lines().length > 0, 'the first lines');
    await new Promise((r) => setTimeout(r, 300));
    const cutWhileStuck = pair.lines().length;
    assert.ok(cutWhileStuck < total, `every line was cut (${cutWhileStuck}) although no reply was read`);
    assert.ok(pair.wire.current.writableLength < 64 * 1024 + reply.length * 2, 'replies piled up in memory');
    assert.ok(pair.wire.current.listenerCount('drain') <= 1, 'one drain listener, however many chunks came');
    assert.ok(pair.wire.current.isPaused(), 'the socket is not read while the unread input is over its cap');
    pair.client.resume();
    await pair.until(() => pair.lines().length === total, 'every line', 20_000);
    assert.ok(pair.lines().every((l) => l === 'NOOP'));
    pair.close();
  });
});

describe('SmtpWire: replies', () => {
  test('single-line, multi-line and code-only replies are written as RFC 5321 §4.2 lines', async () => {
    const pair = await Pair.open();
    let got = '';
    pair.client.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    pair.wire.reply(250, '2.0.0 OK');
    pair.wire.reply(250, ['mx.example.test', 'PIPELINING', 'SIZE 10']);
    pair.wire.reply(250, ['only']);
    pair.wire.reply(354, 'go ahead');
    const want =
      '250 2.0.0 OK\r\n250-mx.example.test\r\n250-PIPELINING\r\n250 SIZE 10\r\n250 only\r\n354 go ahead\r\n';
    const end = Date.now() + 3000;
    while (got.length < want.length && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, want);
    pair.close();
  });

  test('close() flushes the replies already written, then ends the connection; later replies are dropped', async () => {
    const pair = await Pair.open();
    let got = '';
    pair.client.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    const ended = new Promise<void>((resolve) => pair.client.once('end', () => resolve()));
    pair.wire.reply(221, '2.0.0 Bye');
    pair.wire.close();
    pair.wire.reply(250, 'too late');
    await ended;
    assert.equal(got, '221 2.0.0 Bye\r\n');
    pair.close();
  });
});
