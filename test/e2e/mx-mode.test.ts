// MX mode on a real process: with --local-domains, unauthenticated mail for other domains is
// refused (no relay), unknown recipients are refused at RCPT, and a route whose conditions are on
// the envelope refuses with its own code and text; a catch-all route takes every local address.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/backends.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';

/** The reply to RCPT TO (code and text) that Python's smtplib got, after MAIL FROM. */
function rcptReply(port: number, from: string, rcpt: string): { code: number; text: string } {
  const script = [
    'import smtplib, json',
    `s = smtplib.SMTP("127.0.0.1", ${port}, timeout=10)`,
    's.ehlo("client.test")',
    `s.mail(${JSON.stringify(from)})`,
    `code, text = s.rcpt(${JSON.stringify(rcpt)})`,
    's.quit()',
    'print(json.dumps({"code": code, "text": text.decode()}))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: number; text: string };
}

function routesFile(dir: string, routes: unknown[]): string {
  const file = path.join(dir, `routes-${routes.length}.json`);
  fs.writeFileSync(file, JSON.stringify(routes));
  return file;
}

describe('MX mode', () => {
  const dir = tempDir();
  let server: MailroomOnEngine;
  let open: MailroomOnEngine;

  before(async () => {
    const routes = [
      {
        ID: 'no-spam',
        Name: 'a sender we refuse',
        Priority: 1,
        Conditions: [{ Field: 'sender', Op: 'glob', Value: '*@spam.test' }],
        Actions: [{ Type: 'reject', Code: 550, Text: 'We do not take mail from you' }],
      },
      {
        ID: 'tickets',
        Name: 'support tickets',
        Priority: 10,
        Conditions: [{ Field: 'recipient', Op: 'regex', Value: '^support-\\d+@' }],
        Actions: [{ Type: 'store', Tags: ['ticket'] }],
      },
    ];
    server = await mailroomOn('sqlite', [
      '--local-domains',
      'support.example',
      '--routes-file',
      routesFile(dir, routes),
    ]);
    const catchAll = [{ ID: 'all', Name: 'everything', Actions: [{ Type: 'store', Tags: [] }] }];
    open = await mailroomOn('sqlite', [
      '--local-domains',
      'support.example',
      '--routes-file',
      routesFile(dir, catchAll),
    ]);
  });
  after(async () => {
    await server?.dispose();
    await open?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to relay, refuses unknown recipients, and takes those a route takes', () => {
    const relay = rcptReply(server.smtpPort, 'ann@client.test', 'bob@elsewhere.example');
    assert.equal(relay.code, 550);
    assert.match(relay.text, /^5\.7\.1 Relaying denied/);
    const unknown = rcptReply(server.smtpPort, 'ann@client.test', 'nobody@support.example');
    assert.equal(unknown.code, 550);
    assert.match(unknown.text, /^5\.1\.1 /);
    const known = rcptReply(server.smtpPort, 'ann@client.test', 'support-7@SUPPORT.example');
    assert.equal(known.code, 250);
    // The percent hack and a source route do not reach another domain either.
    assert.equal(
      rcptReply(server.smtpPort, 'ann@client.test', 'bob%elsewhere.example@support.example').code,
      550,
    );
  });

  it('refuses with the code and text of a route whose conditions are on the envelope', () => {
    const r = rcptReply(server.smtpPort, 'boss@spam.test', 'support-7@support.example');
    assert.equal(r.code, 550);
    assert.equal(r.text, '5.7.1 We do not take mail from you');
  });

  it('takes every local address when a route has no recipient condition, and still no relay', () => {
    assert.equal(rcptReply(open.smtpPort, 'ann@client.test', 'anyone@support.example').code, 250);
    assert.equal(rcptReply(open.smtpPort, 'ann@client.test', 'anyone@elsewhere.example').code, 550);
  });
});
