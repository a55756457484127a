// Message ids: 22 base62 characters of randomness (the length Mailpit's ids have), so clients that
// store them in fixed columns keep working. Generated in the application, so several nodes sharing a
// PostgreSQL database never collide and the spool needs no round trip for a key.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newMessageId(): string {
  // 16 random bytes = 128 bits; 22 base62 digits hold 130.9 bits.
  let n = 0n;
  for (const b of randomBytes(16)) n = (n << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 22; i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}

export function isMessageId(value: string): boolean {
  return /^[0-9A-Za-z]{22}$/.test(value);
}
