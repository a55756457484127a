// `mailroom sendmail` as an application uses /usr/sbin/sendmail: a message piped in (PHP's mail()
// runs `sendmail -t -i`), submitted over real SMTP to a running Mailroom, checked through the API;
// refusals come back as sendmail's exit codes (sysexits.h).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/backends.ts';
import { type MailroomOnEngine, mailroomOn } from '../helpers/process.ts';
import { readData, type ScriptedSmtp, scriptedSmtp } from '../helpers/smtp-peer.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const CLEAN_ENV = {
  MAILROOM_SMTP_LISTEN: undefined,
  MAILROOM_SENDMAIL_USER: undefined,
  MAILROOM_SENDMAIL_PASSWORD: undefined,
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sendmail(args: string[], input: string, env: Record<string, string | undefined> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'sendmail', ...args], {
      env: { ...process.env, ...CLEAN_ENV, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

interface Stored {
  ID: string;
  Envelope: { MailFrom: string; RcptTo: string[]; AuthUser: string | null };
}

/** The message with this subject, once parsed, and its bytes, through the API. */
async function storedWith(base: string, subject: string): Promise<{ message: Stored; raw: string }> {
  const res = await fetch(
    `${base}/api/v1/wait?${new URLSearchParams({ query: `subject:"${subject}"`, timeout: '60s' })}`,
  );
  assert.equal(res.status, 200, await res.clone().text());
  const { Message } = (await res.json()) as { Message: Stored };
  const raw = await (await fetch(`${base}/api/v1/message/${Message.ID}/raw`)).text();
  return { message: Message, raw };
}

/** A PHP-style message: LF line ends, no Date or Message-ID, recipients in the header only. */
function phpMessage(subject: string, extra = ''): string {
  return [
    'To: Ann <ann@example.test>, bob@example.test',
    'Cc: carol@example.test',
    'Bcc: dave@example.test',
    `Subject: ${subject}`,
    'Content-Type: text/plain; charset=UTF-8',
    '',
    'Hello from PHP.',
    '.',
    `A line after a lone dot.${extra}`,
    '',
  ].join('\n');
}

describe('mailroom sendmail into a sandbox', () => {
  let server: MailroomOnEngine;
  before(async () => {
    server = await mailroomOn('sqlite', ['--smtp-auth-accept-any']);
  });
  after(() => server.dispose());

  it('-t -i: recipients from To, Cc and Bcc, Bcc removed, missing fields added, AUTH from the environment', async () => {
    const subject = `php-${randomUUID()}`;
    const r = await sendmail(['-t', '-i', '-f', 'app@example.test'], phpMessage(subject), {
      // The configured SMTP listener is where it goes, when no --host or --port says otherwise.
      MAILROOM_SMTP_LISTEN: `127.0.0.1:${server.smtpPort}`,
      MAILROOM_SENDMAIL_USER: 'shop',
      MAILROOM_SENDMAIL_PASSWORD: 'not-on-the-command-line',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    const { message, raw } = await storedWith(server.base, subject);
    assert.equal(message.Envelope.MailFrom, 'app@example.test');
    assert.deepEqual([...message.Envelope.RcptTo].sort(), [
      'ann@example.test',
      'bob@example.test',
      'carol@example.test',
      'dave@example.test',
    ]);
    assert.equal(message.Envelope.AuthUser, 'shop');
    assert.doesNotMatch(raw, /^Bcc:/im);
    assert.doesNotMatch(raw, /dave@/);
    assert.match(raw, /^Date: /m);
    assert.match(raw, /^Message-ID: <[^>]+>\r$/m);
    assert.match(raw, /\r\nHello from PHP\.\r\n\.\r\nA line after a lone dot\.\r\n/);
    assert.doesNotMatch(raw.replace(/\r\n/g, ''), /[\r\n]/, 'every line ends in CRLF');
  });

  it('without -i a lone dot ends the message; without -f the sender is the login name at this host', async () => {
    const subject = `dot-${randomUUID()}`;
    const r = await sendmail(['--port', String(server.smtpPort), 'erin@example.test'], phpMessage(subject));
    assert.equal(r.code, 0, r.stderr);
    const { message, raw } = await storedWith(server.base, subject);
    assert.equal(message.Envelope.MailFrom, `${os.userInfo().username}@${os.hostname()}`);
    // Without -t only the named recipient gets it, and the header stays as written.
    assert.deepEqual(message.Envelope.RcptTo, ['erin@example.test']);
    assert.match(raw, /^Bcc: dave@example\.test\r$/m);
    assert.match(raw, /Hello from PHP\.\r\n$/);
    assert.doesNotMatch(raw, /lone dot/);
  });

  it('refuses what it cannot send with usage (64) and data (65) errors, before connecting', async () => {
    const port = String(server.smtpPort);
    const cases: [string[], string, number, RegExp][] = [
      [['-x', 'a@example.test'], 'Subject: x\n\nx\n', 64, /unknown option -x/],
      [['-bp'], '', 64, /only -bm/],
      [['--port', port], 'Subject: x\n\nx\n', 64, /no recipient given/],
      [['-t', '--port', port], 'Subject: x\n\nx\n', 64, /names no recipient/],
      [['--port', port, 'a@example.test'], '', 65, /no message on standard input/],
      [
        ['--port', port, 'not an address'],
        'Subject: x\n\nx\n',
        65,
        /recipient "not an address" contains white space/,
      ],
    ];
    for (const [args, input, code, message] of cases) {
      const r = await sendmail(args, input);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});

describe('mailroom sendmail refused', () => {
  let mx: MailroomOnEngine;
  let peer: ScriptedSmtp;
  let peerData: string[];
  const dir = tempDir();
  before(async () => {
    const hash = spawnSync(process.execPath, [MAIN, 'hash-password'], {
      input: 'right-password\n',
      encoding: 'utf8',
    });
    assert.equal(hash.status, 0, hash.stderr);
    const authFile = path.join(dir, 'users');
    fs.writeFileSync(authFile, `shop:${hash.stdout.trim()}\n`);
    // An MX for shop.example only: mail for other domains is refused at RCPT.
    mx = await mailroomOn('sqlite', ['--local-domains', 'shop.example', '--smtp-auth-file', authFile]);
    peerData = [];
    peer = await scriptedSmtp({
      onRcptTo(address, _session, callback) {
        const code = address.address.startsWith('busy') ? 451 : address.address.startsWith('gone') ? 550 : 0;
        if (code === 0) return callback();
        const err = Object.assign(new Error(code === 451 ? 'try later' : 'no such user'), {
          responseCode: code,
        });
        callback(err);
      },
      onData(stream, _session, callback) {
        void readData(stream).then((d) => {
          peerData.push(d);
          callback();
        });
      },
    });
  });
  after(async () => {
    await peer.close();
    await mx.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a recipient refused for good is EX_UNAVAILABLE (69), with the reply on standard error', async () => {
    const r = await sendmail(
      ['--port', String(mx.smtpPort), 'stranger@elsewhere.example'],
      'Subject: hi\n\nhi\n',
    );
    assert.equal(r.code, 69, r.stderr);
    assert.match(r.stderr, /stranger@elsewhere\.example: 550 5\.7\.1/);
  });

  it('credentials the server refuses are EX_NOPERM (77), and the password is never shown', async () => {
    const r = await sendmail(['--port', String(mx.smtpPort), 'ann@shop.example'], 'Subject: hi\n\nhi\n', {
      MAILROOM_SENDMAIL_USER: 'shop',
      MAILROOM_SENDMAIL_PASSWORD: 'wrong-password',
    });
    assert.equal(r.code, 77, r.stderr);
    assert.match(r.stderr, /535/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-password/);
  });

  it('a temporary refusal or no server at all is EX_TEMPFAIL (75); one refused of two still delivers the other', async () => {
    const busy = await sendmail(['--port', String(peer.port), 'busy@example.test'], 'Subject: hi\n\nhi\n');
    assert.equal(busy.code, 75, busy.stderr);
    assert.match(busy.stderr, /busy@example\.test: 451/);

    await peer.close();
    const away = await sendmail(['--port', String(peer.port), 'a@example.test'], 'Subject: hi\n\nhi\n');
    assert.equal(away.code, 75, away.stderr);
    assert.match(away.stderr, /ECONNREFUSED|connect/);
    peer = await scriptedSmtp({
      onRcptTo(address, _session, callback) {
        if (!address.address.startsWith('gone')) return callback();
        callback(Object.assign(new Error('no such user'), { responseCode: 550 }));
      },
      onData(stream, _session, callback) {
        void readData(stream).then((d) => {
          peerData.push(d);
          callback();
        });
      },
    });
    const mixed = await sendmail(
      ['--port', String(peer.port), 'ok@example.test', 'gone@example.test'],
      'Subject: mixed\n\nhi\n',
    );
    assert.equal(mixed.code, 69, mixed.stderr);
    assert.match(mixed.stderr, /gone@example\.test: 550/);
    assert.doesNotMatch(mixed.stderr, /ok@example\.test/);
    assert.ok(peerData.some((d) => d.includes('Subject: mixed')));
  });
});
