// Hostile and broken messages through a real process: malformed MIME, unknown charsets, a 10 MB
// single-line HTML body, thousands of parts and hostile file names. Every endpoint still answers
// with what can be shown, and nothing named by a message is written to disk.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MailpitClient } from 'mailpit-api';
import { tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';
import { LineClient } from '../helpers/smtp-client.ts';

const FIXTURES = new URL('../fixtures/mime/', import.meta.url);

function bigHtml(): Buffer {
  const line = `<p>${'x'.repeat(10 * 1024 * 1024)}</p>`;
  return Buffer.from(
    'From: a@example.test\r\nTo: b@example.test\r\nSubject: huge html\r\nMIME-Version: 1.0\r\n' +
      `Content-Type: text/html; charset=utf-8\r\n\r\n${line}\r\n`,
  );
}

function manyParts(n: number): Buffer {
  let body = 'From: a@example.test\r\nTo: b@example.test\r\nSubject: many parts\r\nMIME-Version: 1.0\r\n';
  body += 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n';
  for (let i = 0; i < n; i++) {
    body += `--b\r\nContent-Type: text/plain; name="part${i}.txt"\r\nContent-Disposition: attachment; filename="part${i}.txt"\r\n\r\n${i}\r\n`;
  }
  return Buffer.from(`${body}--b--\r\n`);
}

function unknownCharset(): Buffer {
  return Buffer.from(
    'From: a@example.test\r\nTo: b@example.test\r\nSubject: =?x-no-such-charset?Q?caf=E9?=\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: text/plain; charset=x-no-such-charset\r\n\r\ncaf\xe9\r\n',
    'latin1',
  );
}

describe('bad input stays harmless and visible', () => {
  let server: RunningMailroom;
  let mailpit: MailpitClient;
  const dataDir = tempDir();
  const base = () => `http://127.0.0.1:${server.httpPort}`;

  before(async () => {
    server = await spawnMailroom(['--data-dir', dataDir]);
    mailpit = new MailpitClient(base());
    const client = await LineClient.connect(server.smtpPort);
    assert.equal((await client.read()).code, 220);
    assert.equal((await client.command('EHLO bad.example')).code, 250);
    const messages = [
      bigHtml(),
      manyParts(3000),
      unknownCharset(),
      fs.readFileSync(new URL('hostile-names.eml', FIXTURES)),
      // Bare CRs and LFs would be refused at DATA (smuggling guard), so they become CRLF here.
      Buffer.from(
        fs
          .readFileSync(new URL('garbage.eml', FIXTURES))
          .toString('latin1')
          .replace(/\r?\n|\r/g, '\r\n'),
        'latin1',
      ),
      fs.readFileSync(new URL('unterminated-boundary.eml', FIXTURES)),
    ];
    for (const raw of messages) {
      assert.equal((await client.command('MAIL FROM:<a@example.test>')).code, 250);
      assert.equal((await client.command('RCPT TO:<b@example.test>')).code, 250);
      assert.equal((await client.command('DATA')).code, 354);
      // Bytes as they are (no UTF-8 re-encoding); no line of these messages starts with a dot.
      client.write(raw);
      client.write(raw.subarray(-2).toString() === '\r\n' ? '.\r\n' : '\r\n.\r\n');
      assert.equal((await client.read()).code, 250);
    }
    assert.equal((await client.command('QUIT')).code, 221);
    client.close();
    // Parsed and indexed (the waits are for the search index, not for acceptance).
    await mailpit.waitForMessages({ query: 'has:attachment', count: 2 }, { timeout: 60_000 });
    await mailpit.waitForMessages({ query: 'huge' }, { timeout: 60_000 });
  });

  after(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists, shows and renders every message', async () => {
    const list = await mailpit.listMessages();
    assert.equal(list.total, 6);
    for (const m of list.messages) {
      const full = await mailpit.getMessageSummary(m.ID);
      assert.equal(full.ID, m.ID);
      assert.ok((await mailpit.getMessageSource(m.ID)).length > 0);
      const text = await fetch(`${base()}/view/${m.ID}.txt`);
      assert.equal(text.status, 200);
      const html = await fetch(`${base()}/view/${m.ID}.html?embed=1`);
      assert.ok([200, 404].includes(html.status), `view of ${m.Subject}: ${html.status}`);
      await html.arrayBuffer();
    }
  });

  it('serves the 10 MB single-line HTML whole, under its CSP', async () => {
    const id = (await mailpit.searchMessages({ query: 'subject:"huge html"' })).messages[0]!.ID;
    const res = await fetch(`${base()}/view/${id}.html?embed=1`);
    assert.equal(res.status, 200);
    assert.ok((await res.text()).length > 10 * 1024 * 1024);
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
  });

  it('keeps thousands of parts addressable', async () => {
    const id = (await mailpit.searchMessages({ query: 'subject:"many parts"' })).messages[0]!.ID;
    const m = await mailpit.getMessageSummary(id);
    assert.equal(m.Attachments.length, 3000);
    const last = m.Attachments[2999]!;
    const part = await fetch(`${base()}/api/v1/message/${id}/part/${last.PartID}`);
    // postal-mime keeps the line break before the closing boundary in a 7bit text part.
    assert.equal((await part.text()).trimEnd(), '2999');
  });

  it('decodes what it can of an unknown charset', async () => {
    const id = (await mailpit.listMessages()).messages.find((m) => m.Subject.includes('caf'))?.ID;
    assert.ok(id, 'the unknown-charset message is listed with a readable subject');
    assert.match(await mailpit.renderMessageText(id), /caf/);
  });

  it('never turns a hostile file name into a header or a file on disk', async () => {
    const hostile = (await mailpit.listMessages()).messages.filter((m) => m.Attachments > 0);
    for (const m of hostile) {
      const full = await mailpit.getMessageSummary(m.ID);
      for (const a of full.Attachments.slice(0, 20)) {
        const res = await fetch(`${base()}/api/v1/message/${m.ID}/part/${a.PartID}`);
        assert.equal(res.status, 200);
        const disposition = res.headers.get('content-disposition') ?? '';
        // No separators, control or bidi characters survive; dots alone are harmless in a name.
        assert.doesNotMatch(disposition, /[\r\n\0/\\\u202e]|filename="\./u, disposition);
        await res.arrayBuffer();
      }
    }
    // The data directory holds only Mailroom's own files.
    const names = fs.readdirSync(dataDir, { recursive: true }).map(String);
    for (const n of names)
      assert.match(
        path.basename(n),
        /^(mailroom\.db(-wal|-shm)?|tls(-cert|-key)?\.pem|[a-z-]+\.pem|tls)$/,
        n,
      );
  });
});
