// MX mode on a real process: with --local-domains, unauthenticated mail for other domains is
// refused (no relay), unknown recipients are refused at RCPT, and a route whose conditions are on
// the envelope refuses with its own code and text, one whose conditions need the message refuses
// after DATA (nothing stored); a catch-all route takes every local address.
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

/** The reply to the end of DATA that smtplib got for a whole transaction. */
function dataReply(port: number, rcpt: string, message: string): { code: number; text: string } {
  const script = [
    'import smtplib, json, sys',
    `s = smtplib.SMTP("127.0.0.1", ${port}, timeout=10)`,
    'try:',
    `    s.sendmail("ann@client.test", [${JSON.stringify(rcpt)}], ${JSON.stringify(message)}.encode())`,
    '    print(json.dumps({"code": 250, "text": ""}))',
    'except smtplib.SMTPDataError as e:',
    '    print(json.dumps({"code": e.smtp_code, "text": e.smtp_error.decode()}))',
    's.quit()',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: number; text: string };
}

/** The subjects the API lists, once it lists at least `n` parsed messages. */
async function listedSubjects(base: string, n: number): Promise<string[]> {
  const until = Date.now() + 15_000;
  for (;;) {
    const body = (await (await fetch(`${base}/api/v1/messages`)).json()) as {
      messages: { Subject: string }[];
    };
    const subjects = body.messages.map((m) => m.Subject);
    // A message is listed as soon as it is stored, with its subject once it is parsed.
    if ((subjects.length >= n && !subjects.includes('')) || Date.now() > until) return subjects;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function attachmentMail(subject: string, filename: string): string {
  return [
    `Subject: ${subject}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'See attached.',
    '--b',
    `Content-Type: application/octet-stream; name="${filename}"`,
    `Content-Disposition: attachment; filename="${filename}"`,
    'Content-Transfer-Encoding: base64',
    '',
    'TVqQAAMAAAAEAAAA',
    '--b--',
    '',
  ].join('\r\n');
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
        ID: 'no-programs',
        Name: 'no executables',
        Priority: 5,
        Conditions: [{ Field: 'attachment', On: 'filename', Op: 'glob', Value: '*.exe' }],
        Actions: [{ Type: 'reject', Code: 550, Text: 'Executables are not accepted here' }],
      },
      {
        ID: 'later',
        Name: 'busy',
        Priority: 6,
        Conditions: [{ Field: 'subject', Op: 'contains', Value: 'urgent' }],
        Actions: [{ Type: 'reject', Code: 451, Text: 'Busy, try again later' }],
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

  it('refuses after DATA, with its own code and text, a message whose content a reject route matches', async () => {
    const exe = dataReply(
      server.smtpPort,
      'support-7@support.example',
      attachmentMail('Invoice', 'invoice.exe'),
    );
    assert.equal(exe.code, 550);
    assert.equal(exe.text, '5.7.1 Executables are not accepted here');
    const busy = dataReply(
      server.smtpPort,
      'support-7@support.example',
      attachmentMail('Urgent!', 'notes.txt'),
    );
    assert.equal(busy.code, 451);
    assert.equal(busy.text, '4.7.1 Busy, try again later');
    const fine = dataReply(
      server.smtpPort,
      'support-7@support.example',
      attachmentMail('Notes', 'notes.txt'),
    );
    assert.equal(fine.code, 250);
    // Mail is parsed a moment after its 250: wait for the one that was taken.
    const subjects = await listedSubjects(server.base, 1);
    assert.deepEqual(subjects, ['Notes'], 'the refused messages were not stored');
  });

  it('takes every local address when a route has no recipient condition, and still no relay', () => {
    assert.equal(rcptReply(open.smtpPort, 'ann@client.test', 'anyone@support.example').code, 250);
    assert.equal(rcptReply(open.smtpPort, 'ann@client.test', 'anyone@elsewhere.example').code, 550);
  });
});
