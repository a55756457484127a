// Moving bytes between threads without taking others' bytes along.
import { isMarkedAsUntransferable } from 'node:worker_threads';

/**
 * Bytes another thread may take: copied when the view shares its buffer with other data, or when Node
 * forbids moving the buffer (Buffer's allocation pool is marked untransferable). `new Uint8Array(view)`
 * copies, where Buffer#slice would not.
 */
export function transferable(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
  const movable = raw.buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(raw.buffer);
  return whole && movable ? (raw as Uint8Array<ArrayBuffer>) : new Uint8Array(raw);
}
