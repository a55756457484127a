// The .eml corpus in test/fixtures/mime, plus generators for messages too big to keep in git.
import { createHash } from 'node:crypto';
import fs from 'node:fs';

const FIXTURES = new URL('../fixtures/mime/', import.meta.url);

export function fixture(name: string): Buffer {
  return fs.readFileSync(new URL(name, FIXTURES));
}

export function digests(bytes: Uint8Array): { MD5: string; SHA1: string; SHA256: string } {
  const hex = (alg: string) => createHash(alg).update(bytes).digest('hex');
  return { MD5: hex('md5'), SHA1: hex('sha1'), SHA256: hex('sha256') };
}

/** multipart/mixed with a text part followed by `attachments` small base64 attachments. */
export function manyParts(attachments: number): Buffer {
  const lines = [
    'From: bulk@example.test',
    'To: rcpt@example.test',
    `Subject: ${attachments} attachments`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="p"',
    '',
    '--p',
    'Content-Type: text/plain',
    '',
    'Many parts follow.',
  ];
  for (let i = 1; i <= attachments; i++) {
    lines.push(
      '--p',
      'Content-Type: text/plain',
      `Content-Disposition: attachment; filename="part-${i}.txt"`,
    );
    lines.push(
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from(`content of part ${i}`).toString('base64'),
    );
  }
  lines.push('--p--', '');
  return Buffer.from(lines.join('\r\n'));
}

/** A text/html message whose body is one line of about `bytes` bytes, and no text part. */
export function singleLineHtml(bytes: number): Buffer {
  const cell = '<td class="c">caf&#233; &amp; cr&#xE8;me</td>';
  const body = `<html><body><p>Start of a long table.</p><table><tr>${cell.repeat(Math.ceil(bytes / cell.length))}</tr></table></body></html>`;
  return Buffer.from(
    `From: big@example.test\r\nSubject: Big HTML\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${body}\r\n`,
  );
}
