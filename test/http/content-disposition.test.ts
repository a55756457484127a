// File name and content type sanitising for part downloads, and header-section parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/schema.ts';
import { describeDatabase } from '../../src/http/routes/info/presenter.ts';
import {
  contentDisposition,
  safeContentType,
  sanitiseFilename,
} from '../../src/http/routes/message/content-disposition.ts';
import { canonicalHeaderName, parseHeaders } from '../../src/http/routes/message/headers.ts';
import { parseListen } from '../../src/http/server.ts';

describe('part download headers', () => {
  it('strips path separators, control, bidi and zero-width characters', () => {
    assert.equal(sanitiseFilename('../../etc/passwd', 'f'), '_.._etc_passwd');
    assert.equal(sanitiseFilename('C:\\Windows\\evil.bat', 'f'), 'C:_Windows_evil.bat');
    assert.equal(sanitiseFilename('invoice\u202Efdp.exe', 'f'), 'invoicefdp.exe');
    assert.equal(sanitiseFilename('a\u2066b\u200Bc\r\nd\x00e.txt', 'f'), 'abcde.txt');
    assert.equal(sanitiseFilename('...hidden', 'f'), 'hidden');
    assert.equal(sanitiseFilename(' \u202E ', 'part-2'), 'part-2');
    assert.equal([...sanitiseFilename('x'.repeat(500), 'f')].length, 200);
  });

  it('writes an ASCII fallback and an RFC 8187 filename* for non-ASCII names', () => {
    assert.equal(contentDisposition('inline', 'report.pdf'), 'inline; filename="report.pdf"');
    assert.equal(
      contentDisposition('inline', 'a"b\\c%d.txt'),
      'inline; filename="a_b_c_d.txt"; filename*=UTF-8\'\'a%22b%5Cc%25d.txt',
    );
    assert.equal(
      contentDisposition('attachment', "日本 (1)'s.txt"),
      "attachment; filename=\"__ (1)'s.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%281%29%27s.txt",
    );
  });

  it('keeps only well-formed media types', () => {
    assert.equal(safeContentType('image/PNG'), 'image/png');
    assert.equal(
      safeContentType('text/plain; charset="ISO-8859-1"; name=x'),
      'text/plain; charset=ISO-8859-1',
    );
    assert.equal(safeContentType('text/html\r\nSet-Cookie: a=b'), 'application/octet-stream');
    assert.equal(safeContentType(''), 'application/octet-stream');
    assert.equal(safeContentType('application/pdf; charset=utf-8'), 'application/pdf');
  });
});

describe('header section parsing', () => {
  it('canonicalises names as Go does', () => {
    assert.equal(canonicalHeaderName('message-id'), 'Message-Id');
    assert.equal(canonicalHeaderName('CONTENT-TYPE'), 'Content-Type');
    assert.equal(canonicalHeaderName('x weird'), 'x weird');
  });

  it('unfolds, keeps repeated fields in order, stops at the blank line, and tolerates LF', () => {
    const raw = Buffer.from(
      'To: a@x.test\nX-A: 1\n  continued\nx-a: 2\nnot a header\n__proto__: p\n\nBody: no\n',
    );
    const headers = parseHeaders(raw);
    assert.deepEqual(Object.entries(headers), [
      ['To', ['a@x.test']],
      ['X-A', ['1 continued', '2']],
      ['__proto__', ['p']],
    ]);
    assert.equal(Object.getPrototypeOf(headers), Object.prototype);
  });
});

describe('listen address and database description', () => {
  it('parses host:port forms', () => {
    assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseListen('[::1]:8025'), { host: '::1', port: 8025 });
    assert.throws(() => parseListen('8025'));
    assert.throws(() => parseListen('h:99999'));
  });

  it('never shows a database password', () => {
    const config = {
      databaseUrl: 'postgres://mail:hunter2@127.0.0.1:5432/mail?password=hunter2',
      dataDir: 'd',
    } as unknown as Config;
    const shown = describeDatabase({ engine: 'postgres', multiNode: true, listenNotify: true }, config);
    assert.doesNotMatch(shown, /hunter2/);
    assert.match(shown, /^postgres:\/\/mail@127\.0\.0\.1:5432\/mail$/);
    assert.equal(
      describeDatabase({ engine: 'sqlite', multiNode: false, listenNotify: false }, config),
      'sqlite in d',
    );
  });
});
