import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryTransient } from '../../src/storage/postgres/retry.ts';

function pgError(code: string): Error {
  return Object.assign(new Error(`pg ${code}`), { code });
}

describe('retryTransient', () => {
  it('runs a transaction again after a deadlock or serialization failure', async () => {
    const codes = ['40P01', '40001'];
    let calls = 0;
    const value = await retryTransient(async () => {
      calls++;
      const code = codes.shift();
      if (code) throw pgError(code);
      return 'done';
    });
    assert.equal(value, 'done');
    assert.equal(calls, 3);
  });

  it('gives up after the last attempt, with the original error', async () => {
    let calls = 0;
    await assert.rejects(
      retryTransient(async () => {
        calls++;
        throw pgError('40P01');
      }, 3),
      { message: 'pg 40P01' },
    );
    assert.equal(calls, 3);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await assert.rejects(
      retryTransient(async () => {
        calls++;
        throw pgError('23505');
      }),
      { message: 'pg 23505' },
    );
    assert.equal(calls, 1);
  });
});
