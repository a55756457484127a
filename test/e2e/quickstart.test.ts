// The README's promise, end to end on a real process: swaks sends, the API lists and shows it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshPostgresDatabase, tempDir } from '../helpers/backends.ts';
import { spawnMailroom } from '../helpers/process.ts';

interface Listed {
  total: number;
  messages: { ID: string; Subject: string; Envelope: { MailFrom: string; RcptTo: string[] } }[];
}

async function getJson<T>(port: number, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`quick start: ${engine}`, () => {
    it('swaks → SMTP → stored, parsed and served by the API', async () => {
      const dataDir = tempDir();
      const pg = engine === 'postgres' ? await freshPostgresDatabase() : null;
      const server = await spawnMailroom(['--data-dir', dataDir, ...(pg ? ['--database-url', pg.url] : [])]);
      try {
        const sent = spawnSync(
          'swaks',
          [
            '--server',
            `127.0.0.1:${server.smtpPort}`,
            '--from',
            'app@example.test',
            '--to',
            'a@example.test,b@example.test',
            '--header',
            'Subject: Quick start',
            '--body',
            'It works.',
          ],
          { encoding: 'utf8' },
        );
        assert.equal(sent.status, 0, sent.stdout + sent.stderr);
        assert.match(sent.stdout, /<- {2}250 2\.0\.0 Ok: queued as [0-9A-Za-z]{22}/);

        const ready = await fetch(`http://127.0.0.1:${server.httpPort}/readyz`);
        assert.equal(ready.status, 200);
        let list = await getJson<Listed>(server.httpPort, '/api/v1/messages');
        for (let i = 0; i < 100 && list.messages[0]?.Subject !== 'Quick start'; i++) {
          await sleep(50);
          list = await getJson<Listed>(server.httpPort, '/api/v1/messages');
        }
        assert.equal(list.total, 1);
        const m = list.messages[0]!;
        assert.equal(m.Subject, 'Quick start');
        assert.equal(m.Envelope.MailFrom, 'app@example.test');
        assert.deepEqual(m.Envelope.RcptTo, ['a@example.test', 'b@example.test']);
        const full = await getJson<{ Text: string }>(server.httpPort, '/api/v1/message/latest');
        assert.match(full.Text, /It works\./);
        const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
        assert.match(metrics, /mailroom_messages_accepted_total\{listener="smtp"\} 1/);
        assert.match(metrics, /mailroom_spool_commit_seconds_count 1/);
      } finally {
        assert.equal(await server.stop(), 0);
        await pg?.drop();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });
}
