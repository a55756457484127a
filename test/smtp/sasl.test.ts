// The SASL steps of AUTH PLAIN and LOGIN (src/smtp/sasl.ts), without a socket.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { saslContinue, saslStart } from '../../src/smtp/sasl.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('AUTH PLAIN', () => {
  test('with an initial response: credentials at once, the authorization identity ignored', () => {
    assert.deepEqual(saslStart(`PLAIN ${b64('admin\0alice\0s3cret')}`), {
      kind: 'credentials',
      method: 'PLAIN',
      username: 'alice',
      password: 's3cret',
    });
  });

  test('without one: an empty challenge, then the response line', () => {
    const first = saslStart('plain');
    assert.deepEqual(first, { kind: 'challenge', text: '', state: { method: 'PLAIN' } });
    assert.ok(first.kind === 'challenge');
    assert.deepEqual(saslContinue(first.state, b64('\0bob\0pw with spaces')), {
      kind: 'credentials',
      method: 'PLAIN',
      username: 'bob',
      password: 'pw with spaces',
    });
  });

  test('"=" is an empty initial response, which holds no user: refused', () => {
    assert.deepEqual(saslStart('PLAIN ='), {
      kind: 'refused',
      code: 501,
      text: '5.5.2 Invalid PLAIN response',
    });
  });

  test('a malformed response is refused with 501', () => {
    assert.equal(saslStart('PLAIN !!!').kind, 'refused');
    assert.deepEqual(saslContinue({ method: 'PLAIN' }, b64('no separators')), {
      kind: 'refused',
      code: 501,
      text: '5.5.2 Invalid PLAIN response',
    });
  });
});

describe('AUTH LOGIN', () => {
  test('Username:, then Password:, then credentials', () => {
    const first = saslStart('LOGIN');
    assert.deepEqual(first, { kind: 'challenge', text: b64('Username:'), state: { method: 'LOGIN' } });
    assert.ok(first.kind === 'challenge');
    const second = saslContinue(first.state, b64('carol'));
    assert.deepEqual(second, {
      kind: 'challenge',
      text: b64('Password:'),
      state: { method: 'LOGIN', username: 'carol' },
    });
    assert.ok(second.kind === 'challenge');
    assert.deepEqual(saslContinue(second.state, b64('pa:ss')), {
      kind: 'credentials',
      method: 'LOGIN',
      username: 'carol',
      password: 'pa:ss',
    });
  });

  test('the username as initial response skips the first challenge', () => {
    assert.deepEqual(saslStart(`LOGIN ${b64('dave')}`), {
      kind: 'challenge',
      text: b64('Password:'),
      state: { method: 'LOGIN', username: 'dave' },
    });
  });

  test('a response that is not base64 is refused', () => {
    assert.deepEqual(saslContinue({ method: 'LOGIN' }, 'not base64!'), {
      kind: 'refused',
      code: 501,
      text: '5.5.2 Invalid base64',
    });
  });
});

describe('AUTH in general', () => {
  test('"*" cancels an exchange at any step (RFC 4954 §4)', () => {
    for (const state of [
      { method: 'PLAIN' } as const,
      { method: 'LOGIN' } as const,
      { method: 'LOGIN', username: 'x' } as const,
    ]) {
      assert.deepEqual(saslContinue(state, '*'), {
        kind: 'refused',
        code: 501,
        text: '5.0.0 Authentication canceled',
      });
    }
  });

  test('an unknown mechanism gets 504, extra arguments 501', () => {
    assert.deepEqual(saslStart('CRAM-MD5'), {
      kind: 'refused',
      code: 504,
      text: '5.5.4 Unrecognized authentication type',
    });
    assert.equal(saslStart(`PLAIN ${b64('\0a\0b')} extra`).kind, 'refused');
    assert.equal((saslStart(`PLAIN ${b64('\0a\0b')} extra`) as { code: number }).code, 501);
  });
});
