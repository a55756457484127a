// bench/inbox: fills a server with the corpus over SMTP, on many persistent sessions at once.
// Where the server offers PIPELINING (RFC 2920), MAIL, every RCPT and DATA go out in one write;
// otherwise (Mailpit) each command waits for its reply. Every message must get its 250.
import { LineClient, type Reply } from '../../test/helpers/smtp-client.ts';
import type { Corpus, SearchView } from './corpus.ts';

export interface FillOptions {
  connections: number;
  /** Called once per message, in no particular order, with what a search sees of it. */
  onMessage?: (index: number, view: SearchView) => void;
  /** Progress lines go here (stderr by default). */
  progress?: (line: string) => void;
}

export interface FillResult {
  messages: number;
  seconds: number;
  pipelined: boolean;
}

function expect(r: Reply, code: number, what: string): void {
  if (r.code !== code)
    throw new Error(`${what}: expected ${code}, got ${r.code === 0 ? '(closed)' : r.text}`);
}

/** Dot-stuffs a message (RFC 5321 §4.5.2) and ends it with CRLF "." CRLF. */
function dataBlock(raw: Buffer): Buffer {
  let body = raw;
  if (raw.includes('\n.') || raw[0] === 0x2e) {
    body = Buffer.from(raw.toString('latin1').replace(/(^|\n)\./g, '$1..'), 'latin1');
  }
  const ending = body.subarray(-2).equals(Buffer.from('\r\n')) ? '.\r\n' : '\r\n.\r\n';
  return Buffer.concat([body, Buffer.from(ending)]);
}

/** Sends messages 0..count-1 of the corpus; resolves when every one has been accepted. */
export async function fill(port: number, corpus: Corpus, opts: FillOptions): Promise<FillResult> {
  const progress = opts.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  let next = 0;
  let done = 0;
  let failure: Error | null = null;
  let pipelined = true;
  const started = performance.now();
  const ticker = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    progress(`  sent ${done}/${corpus.count} (${(done / s).toFixed(0)} msgs/s)`);
  }, 5000);

  async function session(): Promise<void> {
    const c = await LineClient.connect(port);
    try {
      expect(await c.read(), 220, 'greeting');
      const ehlo = await c.command('EHLO bench.example');
      expect(ehlo, 250, 'EHLO');
      const canPipeline = ehlo.lines.some((l) => /^250[- ]PIPELINING\b/i.test(l));
      if (!canPipeline) pipelined = false;
      while (failure === null) {
        const i = next++;
        if (i >= corpus.count) break;
        const m = corpus.message(i);
        opts.onMessage?.(i, m.view);
        const commands = [`MAIL FROM:<${m.mailFrom}>`, ...m.rcptTo.map((r) => `RCPT TO:<${r}>`), 'DATA'];
        const what = `message ${i}`;
        if (canPipeline) {
          c.write(commands.map((l) => `${l}\r\n`).join(''));
          for (let k = 0; k < commands.length; k++) {
            expect(await c.read(), k === commands.length - 1 ? 354 : 250, `${what} ${commands[k]}`);
          }
        } else {
          for (let k = 0; k < commands.length; k++) {
            expect(
              await c.command(commands[k]!),
              k === commands.length - 1 ? 354 : 250,
              `${what} ${commands[k]}`,
            );
          }
        }
        c.write(dataBlock(m.raw));
        expect(await c.read(), 250, `${what} end of data`);
        done++;
      }
      if (failure === null) await c.command('QUIT');
    } finally {
      c.close();
    }
  }

  try {
    await Promise.all(
      Array.from({ length: Math.max(1, opts.connections) }, () =>
        session().catch((err: unknown) => {
          failure ??= err instanceof Error ? err : new Error(String(err));
        }),
      ),
    );
  } finally {
    clearInterval(ticker);
  }
  if (failure) throw new Error(`SMTP fill failed after ${done} messages: ${(failure as Error).message}`);
  return { messages: done, seconds: (performance.now() - started) / 1000, pipelined };
}
