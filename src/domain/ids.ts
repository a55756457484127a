// Message ids: 22 base62 characters of randomness (the length Mailpit's ids have), so clients that
// store them in fixed columns keep working. Generated in the application, so several nodes sharing a
// PostgreSQL database never collide and the spool needs no round trip for a key.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 22;
// Random bytes are drawn 4 KiB at a time: one system call per ~200 ids instead of one per id.
const pool = Buffer.alloc(4096);
let offset = pool.length;

/**
 * 22 characters, each from one random byte by rejection sampling (bytes >= 248 are skipped, so
 * each of the 62 characters is equally likely): log2(62) × 22 ≈ 131 bits.
 */
export function newMessageId(): string {
  let out = '';
  while (out.length < ID_LENGTH) {
    if (offset === pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    const b = pool[offset++]!;
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

export function isMessageId(value: string): boolean {
  return /^[0-9A-Za-z]{22}$/.test(value);
}
