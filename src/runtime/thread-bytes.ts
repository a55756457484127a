// Moving message bytes between threads (the SQLite writer, the parse workers) without taking
// others' bytes along, and without copying large messages at every hop.
//
// A large message's bytes are put once into shared memory (a SharedArrayBuffer) when the SMTP
// door assembles it; from then on every thread that needs them (the writer that stores them, the
// parse worker that parses them) reads that one copy: postMessage shares such a buffer instead of
// cloning it. Nothing ever writes into message bytes after they are assembled, so sharing needs no
// locks. Each copy of a 100 KB message made the main thread's garbage collector run a full
// collection sooner (V8 counts ArrayBuffer memory towards its collection trigger): four copies per
// message cost more CPU in the collector's helper threads than storing the message
// (docs/performance.md, change 13).
import { isMarkedAsUntransferable } from 'node:worker_threads';

/** Messages at least this long are assembled in shared memory; smaller ones are cheaper to copy. */
export const SHARED_BYTES_MIN = 16 * 1024;

/** A Buffer over the same bytes as `raw`, no copy (pg sends Buffers as binary parameters). */
export function asBuffer(raw: Uint8Array): Buffer {
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Whether `raw` views all of its buffer (no other data shares it). */
export function spansBuffer(raw: Uint8Array): boolean {
  return raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength;
}

/** Whether `raw` lives in shared memory (other threads read it as it is). */
export function isShared(raw: Uint8Array): boolean {
  return raw.buffer instanceof SharedArrayBuffer;
}

/** `parts` joined into one Buffer, in shared memory when `total` reaches SHARED_BYTES_MIN. */
export function assemble(parts: readonly Uint8Array[], total: number): Buffer {
  if (total < SHARED_BYTES_MIN) return Buffer.concat(parts, total);
  const out = Buffer.from(new SharedArrayBuffer(total));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Bytes another thread may take: shared bytes as they are; otherwise the view itself when it owns
 * its whole buffer and Node allows moving it, a copy when the view shares its buffer with other
 * data or Node forbids moving the buffer (Buffer's allocation pool is marked untransferable).
 * `new Uint8Array(view)` copies, where Buffer#slice would not.
 */
export function transferable(raw: Uint8Array): Uint8Array {
  if (isShared(raw)) return raw;
  const movable = raw.buffer instanceof ArrayBuffer && !isMarkedAsUntransferable(raw.buffer);
  return spansBuffer(raw) && movable ? raw : new Uint8Array(raw);
}

/**
 * Bytes for another thread while the caller keeps its own: shared bytes as they are, a copy of
 * anything else. `transfer` collects the buffers postMessage may move (the copies).
 */
export function copyFor(raw: Uint8Array, transfer?: ArrayBuffer[]): Uint8Array {
  if (isShared(raw)) return raw;
  const copy = new Uint8Array(raw);
  transfer?.push(copy.buffer);
  return copy;
}

/** The buffers of `views` that postMessage may move (shared ones are shared, never moved). */
export function movable(views: readonly Uint8Array[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of views) if (v.buffer instanceof ArrayBuffer) out.push(v.buffer);
  return out;
}
