// SMTP AUTH users from a file of `user:hash` lines (--smtp-auth-file). Hashes are bcrypt as written
// by `htpasswd -B` ($2a$/$2b$/$2y$, checked with bcryptjs) or scrypt as written by hashPassword():
//   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64>$<key, base64>
// A third field lists the domains the user may send from when mail leaves (outbound submission):
//   ann:<hash>:shop.example,news.example     (a domain covers its subdomains; * allows any)
// Without it the user may sign in and have mail captured, but sends nothing outbound.
// Blank lines and lines starting with # are ignored.
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, o: object) => Promise<Buffer>;

// N = 2^15, r = 8: 32 MiB and tens of milliseconds per check, the interactive-login setting
// recommended by the scrypt paper (Percival 2009, §7).
const DEFAULT = { ln: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SCRYPT_RE =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
const BCRYPT_RE = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

interface ScryptHash {
  kind: 'scrypt';
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}
type StoredHash = ScryptHash | { kind: 'bcrypt'; hash: string };

export interface AuthUsers {
  readonly size: number;
  /** Checks a password; unknown users cost the same work as known ones. */
  verify(user: string, password: string): Promise<boolean>;
  /** The sender domains a user may send outbound from (lower case; '*' for any); empty for none. */
  senderDomains(user: string): readonly string[];
}

interface UserEntry {
  hash: StoredHash;
  senders: string[];
}

function scryptOptions(h: { ln: number; r: number; p: number }) {
  const N = 2 ** h.ln;
  return { N, r: h.r, p: h.p, maxmem: 256 * N * h.r + 1024 * 1024 };
}

/** Hashes a password in the scrypt format above (used by `mailroom hash-password`). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, scryptOptions(DEFAULT));
  return `$scrypt$ln=${DEFAULT.ln},r=${DEFAULT.r},p=${DEFAULT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function parseHash(text: string): StoredHash | null {
  if (BCRYPT_RE.test(text)) return { kind: 'bcrypt', hash: text };
  const m = SCRYPT_RE.exec(text);
  if (!m) return null;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 22 || r < 1 || p < 1) return null;
  const key = Buffer.from(m[5]!, 'base64');
  return key.length < 16 ? null : { kind: 'scrypt', ln, r, p, salt: Buffer.from(m[4]!, 'base64'), key };
}

async function check(stored: StoredHash, password: string): Promise<boolean> {
  if (stored.kind === 'bcrypt') return bcrypt.compare(password, stored.hash);
  const key = await scrypt(password, stored.salt, stored.key.length, scryptOptions(stored));
  return timingSafeEqual(key, stored.key);
}

/** Parses the file's text; `file` only names it in errors. */
export function parseAuthFile(file: string, text: string): Map<string, UserEntry> {
  const users = new Map<string, UserEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const colon = line.indexOf(':');
    const user = colon > 0 ? line.slice(0, colon) : '';
    if (!user || /[\s\x00-\x1f\x7f]/.test(user)) throw new Error(`${where}: expected "user:hash"`);
    // Neither hash format holds a colon, so a second one starts the sender domains.
    const rest = line.slice(colon + 1);
    const second = rest.indexOf(':');
    const senders = second < 0 ? [] : parseSenders(rest.slice(second + 1), where);
    // The hash itself is never quoted in errors: it is secret material.
    const hash = parseHash(second < 0 ? rest : rest.slice(0, second));
    if (!hash)
      throw new Error(`${where}: the hash for "${user}" is neither bcrypt ($2a/$2b/$2y) nor $scrypt$`);
    if (users.has(user)) throw new Error(`${where}: user "${user}" is listed twice`);
    users.set(user, { hash, senders });
  });
  return users;
}

function parseSenders(text: string, where: string): string[] {
  const domains = text
    .split(',')
    .map((d) => d.trim().toLowerCase())
    .filter(Boolean);
  for (const d of domains) {
    if (d !== '*' && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(d)) {
      throw new Error(`${where}: "${d}" is not a sender domain (a domain name, or * for any)`);
    }
  }
  return domains;
}

export async function loadAuthFile(file: string): Promise<AuthUsers> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(
      `${file}: cannot read the SMTP auth file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const users = parseAuthFile(file, text);
  // Unknown users are checked against a throwaway hash so the reply time does not reveal them.
  const decoy = parseHash(await hashPassword(randomBytes(12).toString('base64')))!;
  return {
    size: users.size,
    async verify(user, password) {
      const stored = users.get(user);
      const ok = await check(stored?.hash ?? decoy, password);
      return stored !== undefined && ok;
    },
    senderDomains(user) {
      return users.get(user)?.senders ?? [];
    },
  };
}
