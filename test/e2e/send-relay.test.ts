// The relay transport end to end: Mailroom queues a message from the send API and its worker hands
// it to Postfix's smtp-sink on loopback (a real Postfix program). The queue then shows each
// recipient's reply and the events; smtp-sink's dump shows the bytes arrived. A smarthost that
// does not offer STARTTLS when TLS is required gets nothing, and the delivery waits.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshPostgresDatabase, tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';
import { freePort } from '../helpers/spam-daemons.ts';

interface Outbound {
  Deliveries: {
    State: string;
    LastReply: string | null;
    Recipients: { Address: string; State: string; Reply: string }[];
  }[];
  Events: { Type: string }[];
}

async function startSink(dumpDir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  // smtp-sink drops root privileges to the -u user after binding; that user writes the dumps.
  fs.chmodSync(dumpDir, 0o777);
  const child = spawn('smtp-sink', ['-u', 'nobody', '-d', `${dumpDir}/%M.`, `127.0.0.1:${port}`, '16'], {
    stdio: 'ignore',
  });
  child.on('error', (err) =>
    assert.fail(`smtp-sink (Debian package postfix) could not start: ${err.message}`),
  );
  for (let i = 0; i < 50; i++) {
    const up = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (err: Error) => !/ECONNREFUSED/.test(String((err as { cause?: Error }).cause?.message ?? err.message)),
    );
    if (up) break;
    await sleep(50);
  }
  return { port, child };
}

/** Relaying, the answer is 202 once queued, asked for or not (ADR 0010): both ways are sent. */
let asked = false;
async function sendAsync(base: string, subject: string): Promise<string> {
  asked = !asked;
  const res = await fetch(`${base}/api/v1/send`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(asked ? { Prefer: 'respond-async' } : {}) },
    body: JSON.stringify({
      From: { Email: 'orders@shop.example' },
      To: [{ Email: 'ann@one.example' }],
      Bcc: ['audit@two.example'],
      Subject: subject,
      Text: 'relayed body',
    }),
  });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('Preference-Applied'), asked ? 'respond-async' : null);
  return ((await res.json()) as { ID: string }).ID;
}

async function waitFor(base: string, id: string, done: (o: Outbound) => boolean): Promise<Outbound> {
  for (let i = 0; i < 200; i++) {
    const o = (await (await fetch(`${base}/api/v1/outbound/${id}`)).json()) as Outbound;
    if (done(o)) return o;
    await sleep(50);
  }
  assert.fail(`outbound ${id} did not reach the expected state`);
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`relay transport to smtp-sink: ${engine}`, () => {
    const dumpDir = tempDir();
    const dataDirs = [tempDir(), tempDir()];
    let sink: { port: number; child: ChildProcess };
    let plain: RunningMailroom;
    let strict: RunningMailroom;
    const drops: (() => Promise<void>)[] = [];

    before(async () => {
      sink = await startSink(dumpDir);
      const start = async (dataDir: string, tls: string) => {
        const pg = engine === 'postgres' ? await freshPostgresDatabase() : null;
        if (pg) drops.push(pg.drop);
        return spawnMailroom([
          '--data-dir',
          dataDir,
          ...(pg ? ['--database-url', pg.url] : []),
          '--outbound-transport',
          'relay',
          '--relay-host',
          `127.0.0.1:${sink.port}`,
          '--relay-tls',
          tls,
          '--retry-first',
          '1h',
        ]);
      };
      plain = await start(dataDirs[0]!, 'none');
      strict = await start(dataDirs[1]!, 'starttls');
    });

    after(async () => {
      await plain?.stop();
      await strict?.stop();
      sink?.child.kill();
      for (const drop of drops) await drop();
      for (const d of [dumpDir, ...dataDirs]) fs.rmSync(d, { recursive: true, force: true });
    });

    it('delivers every recipient through the smarthost and records its replies', async () => {
      const base = `http://127.0.0.1:${plain.httpPort}`;
      const id = await sendAsync(base, `Relayed ${engine}`);
      const o = await waitFor(base, id, (x) => x.Deliveries.every((d) => d.State === 'delivered'));
      const recipients = o.Deliveries.flatMap((d) => d.Recipients);
      assert.deepEqual(recipients.map((r) => [r.Address, r.State]).sort(), [
        ['ann@one.example', 'delivered'],
        ['audit@two.example', 'delivered'],
      ]);
      assert.ok(
        recipients.every((r) => /^250 /.test(r.Reply)),
        JSON.stringify(recipients),
      );
      assert.ok(o.Events.some((e) => e.Type === 'delivery:delivered'));
      // One transaction per recipient domain reached the sink, each with the message.
      const dumps = fs.readdirSync(dumpDir).map((f) => fs.readFileSync(path.join(dumpDir, f), 'latin1'));
      const mine = dumps.filter((d) => d.includes(`Subject: Relayed ${engine}`));
      assert.equal(mine.length, 2);
      assert.ok(mine.every((d) => d.includes('relayed body') && !/^Bcc:/m.test(d)));
    });

    it('sends nothing in the clear when the smarthost must speak STARTTLS and does not', async () => {
      const base = `http://127.0.0.1:${strict.httpPort}`;
      const before = fs.readdirSync(dumpDir).length;
      const id = await sendAsync(base, `Not in the clear ${engine}`);
      const o = await waitFor(base, id, (x) => x.Deliveries.every((d) => d.State === 'deferred'));
      assert.match(o.Deliveries[0]!.LastReply ?? '', /STARTTLS|TLS/i);
      assert.equal(fs.readdirSync(dumpDir).length, before);
    });
  });
}
