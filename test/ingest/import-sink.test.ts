// The envelope of a polled message, read from the trace fields its server added.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { polledEnvelope } from '../../src/ingest/import-sink.ts';

const msg = (head: string[]) => Buffer.from([...head, 'Subject: x', '', 'body', ''].join('\r\n'));
const meta = { raw: new Uint8Array(), keys: [], source: 'imap:ann' };

describe('polled envelope', () => {
  it('takes the sender from Return-Path, the recipient from Delivered-To and the client from the newest Received', () => {
    const e = polledEnvelope(
      msg([
        'Return-Path: <bounce+x@lists.example>',
        'Delivered-To: support@shop.example',
        'Received: from mx2.sender.example (mx2.sender.example [IPv6:2001:db8::7])',
        '\tby imap.example; Mon, 23 Nov 2026 10:00:00 +0000',
        'Received: from inner (inner [10.0.0.1]) by mx2.sender.example',
      ]),
      meta,
      '2026-11-24T00:00:00.000Z',
    );
    assert.equal(e.mailFrom, 'bounce+x@lists.example');
    assert.deepEqual(e.rcptTo, ['support@shop.example']);
    assert.equal(e.clientIp, '2001:db8::7');
    assert.equal(e.helo, 'mx2.sender.example');
    assert.equal(e.listener, 'imap');
    assert.equal(e.sessionId, 'imap:ann');
  });

  it('gives the null sender for Return-Path: <>, and empty values when the server added nothing', () => {
    const bounce = polledEnvelope(msg(['Return-Path: <>', 'X-Original-To: a@b.example']), meta, 'now');
    assert.equal(bounce.mailFrom, '');
    assert.deepEqual(bounce.rcptTo, ['a@b.example']);
    const bare = polledEnvelope(msg([]), { ...meta, source: 'pop3:bob' }, 'now');
    assert.deepEqual([bare.mailFrom, bare.rcptTo, bare.clientIp, bare.listener], ['', [], '', 'pop3']);
  });
});
