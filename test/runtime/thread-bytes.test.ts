// Message bytes between threads: large messages assembled once in shared memory and read there by
// every thread; everything else copied or moved (src/runtime/thread-bytes.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import {
  asBuffer,
  assemble,
  copyFor,
  isShared,
  movable,
  SHARED_BYTES_MIN,
  transferable,
} from '../../src/runtime/thread-bytes.ts';

const parts = (total: number) => {
  const a = Buffer.alloc(Math.floor(total / 3), 'a');
  const b = Buffer.alloc(total - a.length * 2, 'b');
  return [a, b, Buffer.alloc(a.length, 'c')];
};

describe('thread bytes', () => {
  it('assembles a large message in shared memory and a small one in ordinary memory', () => {
    const big = assemble(parts(SHARED_BYTES_MIN), SHARED_BYTES_MIN);
    assert.equal(isShared(big), true);
    assert.deepEqual(big, Buffer.concat(parts(SHARED_BYTES_MIN)));
    assert.equal(Buffer.isBuffer(big), true);
    const small = assemble(parts(SHARED_BYTES_MIN - 1), SHARED_BYTES_MIN - 1);
    assert.equal(isShared(small), false);
    assert.deepEqual(small, Buffer.concat(parts(SHARED_BYTES_MIN - 1)));
  });

  it('shares shared bytes with another thread instead of copying them', () => {
    const big = assemble(parts(100_000), 100_000);
    const transfer: ArrayBuffer[] = [];
    assert.equal(copyFor(big, transfer), big);
    assert.equal(transfer.length, 0);
    assert.equal(transferable(big), big);
    assert.deepEqual(movable([big]), []);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage({ raw: big });
    const received = receiveMessageOnPort(port2)!.message as { raw: Uint8Array };
    big[0] = 0x7a; // nothing writes message bytes; here it shows the memory is the same
    assert.equal(received.raw[0], 0x7a);
    port1.close();
  });

  it('copies ordinary bytes for another thread and lets postMessage move the copy', () => {
    const raw = Buffer.from('Subject: hi\r\n\r\nbody\r\n');
    const transfer: ArrayBuffer[] = [];
    const copy = copyFor(raw, transfer);
    assert.notEqual(copy.buffer, raw.buffer);
    assert.deepEqual(Buffer.from(copy), raw);
    assert.deepEqual(transfer, [copy.buffer]);
    // A pooled Buffer is never moved: transferable() copies it.
    assert.notEqual(transferable(raw).buffer, raw.buffer);
    const own = new Uint8Array(8);
    assert.equal(transferable(own), own);
    assert.deepEqual(movable([own]), [own.buffer]);
  });

  it('views any bytes as a Buffer without a copy', () => {
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const buf = asBuffer(view);
    assert.equal(Buffer.isBuffer(buf), true);
    assert.equal(buf.buffer, view.buffer);
    assert.deepEqual([...buf], [2, 3]);
    const already = Buffer.from('x');
    assert.equal(asBuffer(already), already);
  });
});
