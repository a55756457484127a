// What ties a customer's mail to a ticket, and what a stranger cannot make up:
// - the signed reply address our mail asks to be answered at, PREFIX-7102+<token>@domain, where
//   the token is an HMAC of the desk and number under --ticket-secret;
// - our Message-IDs, <PREFIX-7102.<random>.<mac>@domain>, found in a reply's In-Reply-To or
//   References: the MAC covers desk, number and the random part.
// The plain ticket address, PREFIX-7102@domain, and the subject line are not anchors: anyone can
// write them. Keys are tried in order, so a secret can be rotated: the first signs, all verify.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Desk } from './desk.ts';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_LENGTH = 12; // 60 bits
const MAC_LENGTH = 16; // 80 bits

function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= length) break;
  }
  return out;
}

function mac(secret: string, what: string, length: number): string {
  return base32(createHmac('sha256', secret).update(what).digest(), length);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface TicketRef {
  desk: Desk;
  number: number;
}

/** What a recipient address of a desk's domain is. */
export type DeskAddress =
  | { kind: 'intake'; desk: Desk }
  | { kind: 'ticket'; desk: Desk; number: number; signed: boolean }
  /** A ticket address whose token does not verify: treated like the plain address, and said so. */
  | { kind: 'forged'; desk: Desk; number: number };

export class Anchors {
  private readonly byDomain: Map<string, Desk>;
  private readonly secrets: readonly string[];

  constructor(desks: readonly Desk[], secrets: readonly string[]) {
    if (desks.length > 0 && secrets.length === 0) throw new Error('desks need --ticket-secret');
    this.byDomain = new Map(desks.map((d) => [d.domain, d]));
    this.secrets = secrets;
  }

  get desks(): Desk[] {
    return [...this.byDomain.values()];
  }

  deskOfDomain(domain: string): Desk | null {
    return this.byDomain.get(domain.toLowerCase()) ?? null;
  }

  deskNamed(name: string): Desk | null {
    return this.desks.find((d) => d.name === name) ?? null;
  }

  key(desk: Desk, number: number): string {
    return `${desk.prefix}-${number}`;
  }

  /** The ticket's plain address: PREFIX-7102@domain. */
  address(desk: Desk, number: number): string {
    return `${this.key(desk, number)}@${desk.domain}`;
  }

  /** The signed address replies are asked to go to: PREFIX-7102+token@domain. */
  replyAddress(desk: Desk, number: number): string {
    return `${this.key(desk, number)}+${this.token(this.secrets[0]!, desk, number)}@${desk.domain}`;
  }

  intakeAddress(desk: Desk): string {
    return `${desk.intake}@${desk.domain}`;
  }

  private token(secret: string, desk: Desk, number: number): string {
    return mac(secret, `address\0${desk.name}\0${number}`, TOKEN_LENGTH);
  }

  /**
   * A Message-ID of ours for mail on this ticket, with angle brackets: random, or derived from
   * `seed` so that a retried send gets the same one.
   */
  messageId(desk: Desk, number: number, seed?: string): string {
    const random = base32(
      seed === undefined ? randomBytes(8) : createHash('sha256').update(seed).digest(),
      10,
    );
    const m = mac(this.secrets[0]!, `message\0${desk.name}\0${number}\0${random}`, MAC_LENGTH);
    return `<${this.key(desk, number)}.${random}.${m}@${desk.domain}>`;
  }

  /** The ticket one of our Message-IDs (with or without angle brackets) is about, when its MAC holds. */
  verifyMessageId(id: string): TicketRef | null {
    const m = /^<?([A-Za-z][A-Za-z0-9]{0,19})-(\d{1,9})\.([a-z2-7]{10})\.([a-z2-7]{16})@([^<>\s@]+)>?$/.exec(
      id.trim(),
    );
    if (!m) return null;
    const desk = this.deskOfDomain(m[5]!);
    if (!desk || desk.prefix !== m[1]!.toUpperCase()) return null;
    const number = Number(m[2]);
    const ok = this.secrets.some((s) =>
      sameText(mac(s, `message\0${desk.name}\0${number}\0${m[3]}`, MAC_LENGTH), m[4]!.toLowerCase()),
    );
    return ok ? { desk, number } : null;
  }

  /** What an address is to the desks: an intake, a ticket's (signed or not), or nothing of theirs. */
  classify(address: string): DeskAddress | null {
    const at = address.lastIndexOf('@');
    if (at < 1) return null;
    const desk = this.deskOfDomain(address.slice(at + 1));
    if (!desk) return null;
    const local = address.slice(0, at).toLowerCase();
    if (local === desk.intake) return { kind: 'intake', desk };
    const m = /^([a-z][a-z0-9]{0,19})-(\d{1,9})(?:\+([a-z0-9]{1,64}))?$/.exec(local);
    if (!m || m[1]!.toUpperCase() !== desk.prefix) return null;
    const number = Number(m[2]);
    if (number < 1) return null;
    if (m[3] === undefined) return { kind: 'ticket', desk, number, signed: false };
    const token = m[3];
    const ok = this.secrets.some((s) => sameText(this.token(s, desk, number), token));
    return ok ? { kind: 'ticket', desk, number, signed: true } : { kind: 'forged', desk, number };
  }
}
