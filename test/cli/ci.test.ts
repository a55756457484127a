// `mailroom ci` as a CI job runs it: in the background, ports read from its standard output, mail
// sent by the application under test (here swaks and smtplib), artifacts left in a directory, and
// the exit status telling the job whether the expected mail came.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/backends.ts';
import { BIN } from '../helpers/process.ts';
import { python, run } from '../smtp/clients.ts';

interface CiRun {
  child: ChildProcess;
  /** The shell assignments it printed, once all have come. */
  ports: Promise<Record<string, string>>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function ci(args: string[]): CiRun {
  const child = spawn(
    process.execPath,
    [BIN, 'ci', '--smtp-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', ...args],
    {
      env: { ...process.env, MAILROOM_DATA_DIR: undefined, MAILROOM_DATABASE_URL: undefined },
    },
  );
  let stdout = '';
  let stderr = '';
  let found: (v: Record<string, string>) => void = () => {};
  const ports = new Promise<Record<string, string>>((resolve) => (found = resolve));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (stdout.includes('MAILROOM_URL=')) {
      found(
        Object.fromEntries(
          stdout
            .trim()
            .split('\n')
            .map((l) => l.split('=', 2) as [string, string]),
        ),
      );
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  // A run that ends before printing its ports fails the test with what it said.
  void done.then((r) => found({ exited: `${r.code}: ${r.stderr}` }));
  return { child, ports, done };
}

async function swaks(port: string, subject: string): Promise<void> {
  const r = await run('swaks', [
    '--server',
    `127.0.0.1:${port}`,
    '--to',
    'ann@example.test',
    '--header',
    `Subject: ${subject}`,
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

describe('mailroom ci', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir('mailroom-ci-test-');
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('prints its ports, exits 0 once N messages came, and leaves each as .eml and .json', async () => {
    const out = path.join(dir(), 'mail');
    const tag = randomUUID();
    const run = ci(['--expect', '2', '--timeout', '60s', '--out', out]);
    const ports = await run.ports;
    assert.equal(ports.SMTP_HOST, '127.0.0.1', JSON.stringify(ports));
    assert.match(ports.SMTP_PORT ?? '', /^\d+$/);
    assert.match(ports.MAILROOM_URL ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    // The API is up for the job's own checks meanwhile.
    assert.equal((await fetch(`${ports.MAILROOM_URL}/readyz`)).status, 200);
    await swaks(ports.SMTP_PORT!, `first ${tag}`);
    const second = `Subject: second ${tag}\r\nTo: bob@example.test\r\n\r\nsent by smtplib\r\n`;
    const sent = await python(
      's = smtplib.SMTP(ARGS["host"], ARGS["port"])\ns.sendmail("app@example.test", ["bob@example.test"], ARGS["msg"].encode())\ns.quit()',
      { host: ports.SMTP_HOST, port: Number(ports.SMTP_PORT), msg: second },
    );
    assert.equal(sent.code, 0, sent.stderr);

    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mailroom ci: 2 of 2 expected messages arrived/);
    const files = fs.readdirSync(out).sort();
    assert.equal(files.length, 5, files.join(' '));
    assert.match(files[0]!, /^1-[0-9A-Za-z]{22}\.eml$/);
    assert.match(files[2]!, /^2-[0-9A-Za-z]{22}\.eml$/);
    assert.equal(files[4], 'summary.json');
    const eml = fs.readFileSync(path.join(out, files[2]!), 'utf8');
    assert.ok(eml.endsWith(second), eml);
    const json = JSON.parse(fs.readFileSync(path.join(out, files[3]!), 'utf8')) as {
      Subject: string;
      Text: string;
      Headers: Record<string, string[]>;
      Envelope: { MailFrom: string };
    };
    assert.equal(json.Subject, `second ${tag}`);
    assert.equal(json.Text, 'sent by smtplib\n');
    assert.deepEqual(json.Headers.To, ['bob@example.test']);
    assert.equal(json.Envelope.MailFrom, 'app@example.test');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as {
      Expected: number;
      Arrived: number;
      Messages: { File: string; Subject: string }[];
    };
    assert.equal(summary.Expected, 2);
    assert.equal(summary.Arrived, 2);
    assert.deepEqual(
      summary.Messages.map((m) => m.Subject),
      [`first ${tag}`, `second ${tag}`],
    );
    assert.equal(summary.Messages[0]!.File, files[0]!.replace(/\.eml$/, ''));
  });

  it('exits 1 with a summary when too few came in time; only mail after its start counts', async () => {
    const store = dir();
    const out = path.join(dir(), 'mail');
    const tag = randomUUID();
    const first = ci(['--expect', '1', '--data-dir', store]);
    await swaks((await first.ports).SMTP_PORT!, `earlier ${tag}`);
    assert.equal((await first.done).code, 0);

    // Same store, one message in it already: it does not count for this run.
    const second = ci(['--expect', '2', '--timeout', '3s', '--out', out, '--data-dir', store]);
    await swaks((await second.ports).SMTP_PORT!, `only ${tag}`);
    const r = await second.done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /timed out after 3s: 1 of 2 expected messages arrived/);
    assert.match(r.stderr, new RegExp(`1\\. [0-9A-Za-z]{22}  \\S+ -> ann@example\\.test: only ${tag}`));
    const files = fs.readdirSync(out).sort();
    assert.deepEqual(
      files.map((f) => f.replace(/[0-9A-Za-z]{22}/, 'ID')),
      ['1-ID.eml', '1-ID.json', 'summary.json'],
    );
  });

  it('refuses to start without --expect (exit 2)', async () => {
    const r = await ci([]).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--expect is required/);
  });
});
