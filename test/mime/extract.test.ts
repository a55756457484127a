// The corpus, parsed through a real ParsePool: exact decoded values, checksums computed here with
// node:crypto, and extractPart() content equal to what the test expects byte for byte.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ParsedMessage } from '../../src/domain/message.ts';
import { parseMessage } from '../../src/mime/extract.ts';
import { ParsePool } from '../../src/mime/parse-pool.ts';
import { assemble, isShared, SHARED_BYTES_MIN } from '../../src/runtime/thread-bytes.ts';
import { digests, fixture } from './corpus.ts';

let pool: ParsePool;
before(() => {
  pool = ParsePool.start({ workers: 2, timeoutMs: 10_000, memoryBytes: 128 * 1024 * 1024 });
});
after(() => pool.close());

const parse = (name: string): Promise<ParsedMessage> => pool.parse(fixture(name));

async function partBytes(name: string, partId: string): Promise<Buffer> {
  const part = await pool.extractPart(fixture(name), partId);
  assert.ok(part, `part ${partId} of ${name}`);
  return Buffer.from(part.content);
}

describe('headers and addresses', () => {
  it('plain text message', async () => {
    const m = await parse('plain.eml');
    assert.equal(m.messageId, 'plain-1@example.test');
    assert.equal(m.subject, 'Quarterly report');
    assert.equal(m.date, '2026-11-23T10:00:00.000Z');
    assert.deepEqual(m.from, { Name: 'Alice Example', Address: 'alice@example.test' });
    assert.deepEqual(m.to, [
      { Name: 'Bob', Address: 'bob@example.test' },
      { Name: '', Address: 'carol@example.test' },
    ]);
    assert.deepEqual(m.cc, [{ Name: 'Dave, the Reviewer', Address: 'dave@example.test' }]);
    assert.deepEqual(m.replyTo, [{ Name: '', Address: 'replies@example.test' }]);
    assert.equal(m.returnPath, 'bounces+123@lists.example.test');
    assert.equal(m.text, 'Hello Bob,\n\nthe quarterly report is ready.\nNumbers are up.\n\n-- \nAlice\n');
    assert.equal(m.html, '');
    assert.equal(m.snippet, 'Hello Bob, the quarterly report is ready. Numbers are up. -- Alice');
    assert.deepEqual(m.attachments, []);
    assert.deepEqual(m.listUnsubscribe, {
      header:
        '<mailto:unsubscribe@lists.example.test?subject=unsubscribe>, <https://lists.example.test/unsubscribe/abc>',
      links: [
        'mailto:unsubscribe@lists.example.test?subject=unsubscribe',
        'https://lists.example.test/unsubscribe/abc',
      ],
      post: 'List-Unsubscribe=One-Click',
      errors: '',
    });
  });

  it('RFC 2047 encoded words in subject and names (B and Q, folded, adjacent)', async () => {
    const m = await parse('encoded-words.eml');
    assert.equal(m.subject, 'Café ☕ and crème brûlée tonight');
    assert.deepEqual(m.from, { Name: 'Élodíe Dupont', Address: 'elodie@example.test' });
    assert.deepEqual(m.to, [{ Name: 'Zoë ✓', Address: 'zoe@example.test' }]);
    assert.equal(m.text, 'Bon appétit ☕\n');
  });

  it('address groups are flattened; an empty group adds nobody', async () => {
    const m = await parse('groups.eml');
    assert.deepEqual(
      m.to.map((a) => `${a.Name}|${a.Address}`),
      ['|ann@example.test', 'Ben B.|ben@example.test', '|solo@example.test'],
    );
    assert.deepEqual(m.cc, []);
    assert.deepEqual(m.bcc, [{ Name: 'Hidden', Address: 'hidden@example.test' }]);
  });

  it('List-Unsubscribe problems are reported, not thrown', async () => {
    const m = await parse('alternative.eml');
    assert.deepEqual(m.listUnsubscribe.links, ['ftp://example.test/unsub']);
    assert.match(m.listUnsubscribe.errors, /outside angle brackets: "junk"/);
    assert.match(m.listUnsubscribe.errors, /unsupported scheme ftp:/);
    assert.match(m.listUnsubscribe.errors, /needs an https link/);
  });
});

describe('bodies and charsets', () => {
  it('multipart/alternative keeps both bodies; quoted-printable soft breaks are joined', async () => {
    const m = await parse('alternative.eml');
    assert.equal(m.date, '2026-11-24T13:30:00.000Z');
    assert.equal(m.text, 'Plain version of the digest.\n');
    assert.equal(
      m.html,
      '<html><body><h1>Digest</h1><p>HTML version of the digest — with a soft line break.</p></body></html>\n',
    );
    assert.equal(m.snippet, 'Plain version of the digest.');
  });

  it('ISO-8859-1 quoted-printable body and encoded-word subject', async () => {
    const m = await parse('latin1.eml');
    assert.equal(m.subject, 'Grüße aus Köln');
    assert.equal(m.from?.Name, 'Jörg Müller');
    assert.equal(m.text, 'Grüße aus Köln!\nÄrger über Öl.\n');
  });

  it('Shift_JIS base64 body, Shift_JIS subject, ISO-2022-JP name', async () => {
    const m = await parse('shift-jis.eml');
    assert.equal(m.subject, '会議のお知らせ');
    assert.equal(m.from?.Name, '山田太郎');
    assert.equal(m.text, 'こんにちは、世界。\n添付ファイルはありません。\n');
    assert.equal(m.snippet, 'こんにちは、世界。 添付ファイルはありません。');
  });

  it('HTML-only message gets text derived from the HTML', async () => {
    const m = await parse('inline-image.eml');
    assert.equal(m.text, 'Our new logo:');
    assert.equal(m.snippet, 'Our new logo:');
  });
});

describe('attachments and inline parts', () => {
  it('binary and quoted-printable attachments: part paths, sizes, checksums, content', async () => {
    const m = await parse('attachments.eml');
    assert.equal(m.text, 'See the attached files.\n');
    assert.equal(m.html, '<p>See the attached <b>files</b>.</p>\n');
    const bin = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 256));
    // postal-mime ends every decoded line of a non-base64 part with LF (no CR), soft breaks joined.
    const csv = Buffer.from('name,city\nJörg,Köln\nZoë,Zürich, a soft break\n');
    assert.deepEqual(m.attachments, [
      {
        PartID: '2',
        FileName: 'blob.bin',
        ContentType: 'application/octet-stream',
        ContentID: '',
        Size: 1024,
        Checksums: digests(bin),
      },
      {
        PartID: '3',
        FileName: 'cities.csv',
        ContentType: 'text/csv',
        ContentID: '',
        Size: csv.length,
        Checksums: digests(csv),
      },
    ]);
    assert.deepEqual(await partBytes('attachments.eml', '2'), bin);
    assert.deepEqual(await partBytes('attachments.eml', '3'), csv);
    const part = await pool.extractPart(fixture('attachments.eml'), '3');
    assert.equal(part?.contentType, 'text/csv');
    assert.equal(part?.filename, 'cities.csv');
  });

  it('an image referenced by cid: is inline; an unreferenced one is an attachment', async () => {
    const m = await parse('inline-image.eml');
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    assert.deepEqual(m.inline, [
      {
        PartID: '2',
        FileName: 'logo.png',
        ContentType: 'image/png',
        ContentID: 'logo@example.test',
        Size: png.length,
        Checksums: digests(png),
      },
    ]);
    assert.deepEqual(
      m.attachments.map((a) => [a.PartID, a.FileName, a.ContentID]),
      [['3', 'unused.gif', 'unused@example.test']],
    );
    assert.deepEqual(await partBytes('inline-image.eml', '2'), png);
  });

  it('part paths follow the MIME tree: nested parts get dotted paths, a single-part body is "1"', async () => {
    const nested = Buffer.from(
      [
        'Subject: nested',
        'Content-Type: multipart/mixed; boundary="outer"',
        '',
        '--outer',
        'Content-Type: multipart/related; boundary="inner"',
        '',
        '--inner',
        'Content-Type: text/html',
        '',
        '<img src="cid:pic">',
        '--inner',
        'Content-Type: image/gif',
        'Content-ID: <pic>',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('GIF89a').toString('base64'),
        '--inner--',
        '--outer',
        'Content-Type: application/pdf; name="doc.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('%PDF').toString('base64'),
        '--outer--',
        '',
      ].join('\r\n'),
    );
    const m = await pool.parse(Buffer.from(nested));
    assert.deepEqual(
      m.inline.map((p) => [p.PartID, p.ContentID]),
      [['1.2', 'pic']],
    );
    assert.deepEqual(
      m.attachments.map((p) => [p.PartID, p.FileName]),
      [['2', 'doc.pdf']],
    );
    assert.equal(
      Buffer.from((await pool.extractPart(Buffer.from(nested), '1.2'))?.content ?? []).toString(),
      'GIF89a',
    );

    const single =
      'Subject: bare\r\nContent-Type: application/zip; name="a.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBg==\r\n';
    const bare = await pool.parse(Buffer.from(single));
    assert.deepEqual(
      bare.attachments.map((p) => [p.PartID, p.FileName, p.Size]),
      [['1', 'a.zip', 4]],
    );
    const zip = await pool.extractPart(Buffer.from(single), '1');
    assert.deepEqual(Buffer.from(zip?.content ?? []), Buffer.from('UEsFBg==', 'base64'));
  });

  it('an unknown part id resolves to null', async () => {
    assert.equal(await pool.extractPart(fixture('attachments.eml'), '9.9'), null);
    assert.equal(await pool.extractPart(fixture('attachments.eml'), '1'), null);
  });

  it('hostile file names are kept as data: NUL, RTL override, path traversal', async () => {
    const m = await parse('hostile-names.eml');
    assert.deepEqual(
      m.attachments.map((a) => a.FileName),
      ['evil\u0000.txt.exe', 'invoice\u202Efdp.exe', '../../etc/passwd'],
    );
    assert.deepEqual(m.attachments[0]?.Checksums, digests(Buffer.from('nul')));
    const part = await pool.extractPart(fixture('hostile-names.eml'), '3');
    assert.equal(part?.filename, 'invoice\u202Efdp.exe');
    assert.equal(Buffer.from(part?.content ?? []).toString(), 'rtl');
  });
});

describe('broken input', () => {
  it('an unterminated boundary still yields the text and the last part', async () => {
    const m = await parse('unterminated-boundary.eml');
    assert.equal(m.text, 'The text survives.\n');
    assert.deepEqual(
      m.attachments.map((a) => [a.PartID, a.FileName, a.Size]),
      [['2', 'report.pdf', 9]],
    );
    assert.equal((await partBytes('unterminated-boundary.eml', '2')).toString(), '%PDF-1.4\n');
  });

  it('a message without headers parses to its body', async () => {
    const m = await parse('missing-headers.eml');
    assert.equal(m.subject, '');
    assert.equal(m.from, null);
    assert.equal(m.date, null);
    assert.equal(m.messageId, '');
    assert.equal(m.text, 'Just a body, with no header at all.\n');
  });

  it('malformed headers and an unknown charset do not throw; bytes are kept', async () => {
    const m = await parse('malformed-headers.eml');
    assert.equal(m.subject, 'still parsed');
    assert.equal(m.date, null);
    assert.deepEqual(
      m.to.map((a) => a.Address),
      ['ok@example.test'],
    );
    // x-klingon falls back to windows-1252, so the 0xE9 byte is still é rather than lost.
    assert.equal(m.text, 'Café bytes in an unknown charset.\n');
  });

  it('garbage bytes give an empty header set and a body, not an error', async () => {
    const m = await parse('garbage.eml');
    assert.equal(m.subject, '');
    assert.equal(m.from, null);
    assert.ok(m.text.length > 1000);
    assert.ok(m.snippet.length <= 253);
  });
});

describe('shared memory', () => {
  it('a message in shared memory parses as it does in ordinary memory, and is left as it was', async () => {
    for (const name of [
      'plain.eml',
      'attachments.eml',
      'alternative.eml',
      'shift-jis.eml',
      'inline-image.eml',
    ]) {
      const bytes = fixture(name);
      const shared = assemble([bytes, Buffer.alloc(SHARED_BYTES_MIN)], bytes.length + SHARED_BYTES_MIN);
      assert.equal(isShared(shared), true);
      const ordinary = Buffer.from(shared);
      const [inPool, inThread, expected] = await Promise.all([
        pool.parse(shared),
        parseMessage(shared),
        pool.parse(ordinary),
      ]);
      assert.deepEqual(inPool, expected, name);
      assert.deepEqual(inThread, expected, name);
      assert.deepEqual(shared, ordinary, `${name}: its bytes unchanged`);
    }
  });
});
