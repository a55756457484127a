// The DATA framing scanner, fed the same bytes in every possible two-chunk split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataScanner } from '../../src/smtp/data-scanner.ts';

function scanSplits(text: string) {
  const bytes = Buffer.from(text, 'latin1');
  const results = [];
  for (let cut = 0; cut <= bytes.length; cut++) {
    const s = new DataScanner();
    s.push(bytes.subarray(0, cut));
    s.push(bytes.subarray(cut));
    results.push(s.finish());
  }
  return results;
}

test('clean CRLF data passes however it is chunked', () => {
  for (const r of scanSplits('a: b\r\n\r\nline one\r\nline two\r\n')) assert.equal(r.bareLineEnding, false);
});

test('bare LF, bare CR and a trailing CR are found across chunk boundaries', () => {
  for (const text of ['a\nb\r\n', 'a\r\n\nb\r\n', 'a\rb\r\n', 'a\r\r\n', 'a\r\n.\r', '\nstart\r\n']) {
    for (const r of scanSplits(text)) assert.equal(r.bareLineEnding, true, JSON.stringify(text));
  }
});

test('the longest line counts its CRLF', () => {
  for (const r of scanSplits(`${'x'.repeat(998)}\r\nshort\r\n`)) assert.equal(r.longestLine, 1000);
  for (const r of scanSplits(`ok\r\n${'y'.repeat(999)}\r\n`)) assert.equal(r.longestLine, 1001);
});
