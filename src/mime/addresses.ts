// Address fields in the shape Mailpit's API uses ({Name, Address}). RFC 5322 §3.4 groups
// ("Team: a@x, b@y;") are flattened into their members: a list shows people, not group labels.
import type { Address as PostalAddress } from 'postal-mime';
import type { Address } from '../domain/message.ts';

/** Flattens parsed addresses (groups included) into mailboxes; entries without an address are dropped. */
export function toAddresses(list: readonly PostalAddress[] | undefined): Address[] {
  const out: Address[] = [];
  for (const entry of list ?? []) {
    const members = entry.group ?? [entry];
    for (const m of members) {
      if (m.address) out.push({ Name: m.name ?? '', Address: m.address });
    }
  }
  return out;
}

/** The first mailbox of From, or null when the header is absent or holds no address. */
export function firstAddress(entry: PostalAddress | undefined): Address | null {
  return entry ? (toAddresses([entry])[0] ?? null) : null;
}

/** Strips the angle brackets of a msg-id (RFC 5322 §3.6.4) or a Return-Path (§3.6.7). */
export function stripAngles(value: string | undefined): string {
  if (!value) return '';
  const v = value.trim();
  return v.startsWith('<') && v.endsWith('>') ? v.slice(1, -1).trim() : v;
}
