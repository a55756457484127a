import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMessageId, newMessageId } from '../../src/domain/ids.ts';

describe('message ids', () => {
  it('are 22 base62 characters and do not repeat', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const id = newMessageId();
      assert.ok(isMessageId(id), id);
      ids.add(id);
    }
    assert.equal(ids.size, 50_000);
  });

  it('use every character about equally often', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) for (const c of newMessageId()) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 62);
    const expected = (20_000 * 22) / 62;
    for (const [c, n] of counts)
      assert.ok(Math.abs(n - expected) < expected * 0.1, `${c}: ${n} vs ${expected}`);
  });

  it('rejects anything else', () => {
    for (const bad of ['', 'short', `${'a'.repeat(21)}!`, 'a'.repeat(23)])
      assert.equal(isMessageId(bad), false);
  });
});
