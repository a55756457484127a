// The worker's Blob must behave like the platform's for everything the parser asks of it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteBlob } from '../../src/mime/byte-blob.ts';

describe('ByteBlob', () => {
  it('joins strings, buffers, views and blobs exactly as Blob does', async () => {
    const bytes = new Uint8Array(300).map((_, i) => i % 256);
    const parts = ['héllo ', bytes.buffer, bytes.subarray(10, 20), Buffer.from([0, 255])];
    const ours = new ByteBlob([...parts, new ByteBlob(['end'])], { type: 'Text/Plain' });
    const platform = new Blob([...parts, new Blob(['end'])], { type: 'Text/Plain' });
    assert.equal(ours.size, platform.size);
    assert.equal(ours.type, platform.type);
    assert.deepEqual(new Uint8Array(await ours.arrayBuffer()), new Uint8Array(await platform.arrayBuffer()));
    assert.equal(await ours.text(), await platform.text());
    assert.deepEqual(await ours.slice(2, 9).bytes(), await platform.slice(2, 9).bytes());
    assert.equal(Object.prototype.toString.call(ours), '[object Blob]');
  });

  it('hands out copies, so a reader cannot change the blob', async () => {
    const blob = new ByteBlob([new Uint8Array([1, 2, 3])]);
    const first = new Uint8Array(await blob.arrayBuffer());
    first[0] = 9;
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([1, 2, 3]));
  });
});
