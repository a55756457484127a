// List-Unsubscribe (RFC 2369) and one-click unsubscribe (RFC 8058), read from real header sections.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkListUnsubscribe, dkimCoverage } from '../../src/checks/list-unsubscribe.ts';
import { listUnsubscribeResult } from '../../src/http/routes/message/checks-schema.ts';
import { parseHeaders } from '../../src/http/routes/message/headers.ts';
import { NEWSLETTER, rawMessage } from './fixtures.ts';

function check(headers: string[]) {
  const raw = Buffer.from(
    `${['From: news@acme.example', 'Subject: x', ...headers].join('\r\n')}\r\n\r\nbody\r\n`,
  );
  return listUnsubscribeResult.parse(checkListUnsubscribe(parseHeaders(raw)));
}

const SIGNED = (h: string) =>
  `DKIM-Signature: v=1; a=rsa-sha256; d=news.acme.example; s=s1;\r\n h=${h};\r\n bh=abc=; b=def=`;

describe('list-unsubscribe check', () => {
  it('a newsletter that does everything right: one-click declared and signed', () => {
    const r = listUnsubscribeResult.parse(checkListUnsubscribe(parseHeaders(rawMessage(NEWSLETTER))));
    assert.equal(r.Present, true);
    assert.equal(r.OneClick, true);
    assert.deepEqual(
      r.URIs.map((u) => [u.Scheme, u.Valid]),
      [
        ['https', true],
        ['mailto', true],
      ],
    );
    assert.deepEqual(r.URIs[1]?.Mailto, {
      Address: 'unsubscribe@news.acme.example',
      Subject: 'unsubscribe 42',
      Body: '',
    });
    assert.deepEqual(r.DKIM, { Signatures: 1, CoveringDomains: ['news.acme.example'] });
    assert.deepEqual(r.Errors, []);
    assert.deepEqual(r.Warnings, []);
  });

  it('no List-Unsubscribe at all is not an error', () => {
    const r = check([]);
    assert.deepEqual([r.Present, r.OneClick, r.Errors, r.Warnings], [false, false, [], []]);
  });

  it('an https URI without List-Unsubscribe-Post: one-click is not declared', () => {
    const r = check(['List-Unsubscribe: <https://news.acme.example/u/42>']);
    assert.equal(r.OneClick, false);
    assert.deepEqual(r.Errors, []);
    assert.match(r.Warnings.join('\n'), /One-click unsubscribe is not declared.*RFC 8058/);
  });

  it('List-Unsubscribe-Post with only a mailto: URI, or a wrong value, is an error', () => {
    const mailtoOnly = check([
      'List-Unsubscribe: <mailto:leave@news.acme.example>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);
    assert.equal(mailtoOnly.OneClick, false);
    assert.match(mailtoOnly.Errors.join('\n'), /no https URI to POST to/);
    const misspelt = check([
      'List-Unsubscribe: <https://news.acme.example/u/42>',
      'List-Unsubscribe-Post: list-unsubscribe=one-click',
    ]);
    assert.equal(misspelt.OneClick, false);
    assert.match(
      misspelt.Errors.join('\n'),
      /must be exactly "List-Unsubscribe=One-Click" \(spelled differently\)/,
    );
  });

  it('a DKIM signature that leaves the fields out breaks one-click; no signature is a warning', () => {
    const fields = [
      'List-Unsubscribe: <https://news.acme.example/u/42>',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ];
    const uncovered = check([...fields, SIGNED('from:to:subject:list-unsubscribe')]);
    assert.equal(uncovered.OneClick, false);
    assert.match(uncovered.Errors.join('\n'), /No DKIM signature covers both/);
    assert.deepEqual(uncovered.DKIM, { Signatures: 1, CoveringDomains: [] });
    const unsigned = check(fields);
    assert.equal(unsigned.OneClick, true);
    assert.match(unsigned.Warnings.join('\n'), /No DKIM signature: RFC 8058 §4/);
    const covered = check([...fields, SIGNED('From : List-Unsubscribe:\r\n\tList-Unsubscribe-Post')]);
    assert.deepEqual([covered.OneClick, covered.Errors], [true, []]);
  });

  it('reports malformed fields: text outside brackets, bad URIs, plain http, odd schemes, repeats', () => {
    const r = check([
      'List-Unsubscribe: https://news.acme.example/u/42, <mailto:>, <http://news.acme.example/u/42>, <ftp://x.example/u> (old)',
      'List-Unsubscribe: <https://news.acme.example/u/43>',
    ]);
    const errors = r.Errors.join('\n');
    const warnings = r.Warnings.join('\n');
    assert.match(errors, /text outside angle brackets/);
    assert.match(errors, /mailto: has no valid address/);
    assert.match(warnings, /plain http/);
    assert.match(warnings, /ftp:\/\/x\.example\/u: mail programs act on mailto: and https: URIs only/);
    assert.match(warnings, /appears 2 times/);
    assert.equal(
      r.URIs.find((u) => u.Scheme === 'ftp')?.URI,
      'ftp://x.example/u',
      'a comment after a URI is not part of it',
    );
  });

  it('List-Unsubscribe-Post alone is an error', () => {
    const r = check(['List-Unsubscribe-Post: List-Unsubscribe=One-Click']);
    assert.equal(r.Present, false);
    assert.match(r.Errors.join('\n'), /without List-Unsubscribe/);
  });

  it("reads a signature's h= with folding and mixed case", () => {
    assert.deepEqual(dkimCoverage('v=1; d=Example.COM; h=From:\r\n\tTo : Subject; b=x'), {
      domain: 'example.com',
      headers: ['from', 'to', 'subject'],
    });
  });
});
