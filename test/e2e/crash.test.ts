// Durability under a crash: concurrent clients send while the server is killed with SIGKILL;
// after a restart every message that got a 250 is present exactly once. Runs on both engines.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Storage } from '../../src/storage/ports.ts';
import { PostgresStorage } from '../../src/storage/postgres/store.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { freshPostgresDatabase, tempDir } from '../helpers/backends.ts';
import { spawnMailroom } from '../helpers/process.ts';
import { LineClient } from '../helpers/smtp-client.ts';

const CLIENTS = 12;

/** One client: sends numbered messages until the connection dies; returns the tokens that got 250. */
async function sendUntilDead(port: number, client: number, acked: Set<string>): Promise<void> {
  const c = await LineClient.connect(port);
  if ((await c.read()).code !== 220 || (await c.command('EHLO crash.test')).code !== 250) return c.close();
  for (let n = 0; ; n++) {
    const token = `c${client}-m${n}`;
    const body = `From: a@example.test\r\nTo: b@example.test\r\nSubject: crash ${token}\r\nX-Crash-Token: ${token}\r\n\r\n${'x'.repeat(500)}\r\n`;
    const r = await c.send('a@example.test', ['b@example.test'], body);
    if (r.code === 250) acked.add(token);
    else break;
  }
  c.close();
}

async function tokensIn(storage: Storage): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const { messages } = await storage.list({ start: 0, limit: 1_000_000 });
  for (const m of messages) {
    const raw = Buffer.from((await storage.getRaw(m.id))!).toString('latin1');
    const token = /X-Crash-Token: (\S+)/.exec(raw)?.[1];
    assert.ok(token, `message ${m.id} has no token: a half-written message survived`);
    assert.ok(raw.endsWith(`${'x'.repeat(500)}\r\n`), `message ${m.id} is truncated`);
    counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return counts;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`crash durability: ${engine}`, () => {
    it('keeps every acknowledged message exactly once across SIGKILL', async () => {
      const dataDir = tempDir();
      const pg = engine === 'postgres' ? await freshPostgresDatabase() : null;
      const args = ['--data-dir', dataDir, ...(pg ? ['--database-url', pg.url] : [])];
      try {
        const first = await spawnMailroom(args);
        const acked = new Set<string>();
        const clients = Array.from({ length: CLIENTS }, (_, i) =>
          sendUntilDead(first.smtpPort, i, acked).catch(() => {}),
        );
        // Kill mid-stream: once a good number of messages are in and the clients are still sending.
        while (acked.size < 300) await sleep(5);
        first.child.kill('SIGKILL');
        await Promise.all(clients);
        await first.stop();

        const second = await spawnMailroom(args);
        const after = await LineClient.connect(second.smtpPort);
        await after.read();
        await after.command('EHLO crash.test');
        const r = await after.send(
          'a@example.test',
          ['b@example.test'],
          'X-Crash-Token: after-restart\r\n\r\n' + 'x'.repeat(500) + '\r\n',
        );
        assert.equal(r.code, 250, r.text);
        after.close();
        assert.equal(await second.stop(), 0);

        const storage = pg ? await PostgresStorage.open(pg.url) : await SqliteStorage.open(dataDir);
        try {
          const counts = await tokensIn(storage);
          for (const token of acked)
            assert.equal(
              counts.get(token),
              1,
              `acknowledged ${token} stored ${counts.get(token) ?? 0} times`,
            );
          for (const [token, n] of counts) assert.equal(n, 1, `${token} stored ${n} times`);
          assert.equal(counts.get('after-restart'), 1);
          assert.ok(acked.size >= 300);
        } finally {
          await storage.close();
        }
      } finally {
        await pg?.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
