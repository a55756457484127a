// Reads back our own Authentication-Results header from a stored message's header list, for route
// conditions and the UI. Only the first field whose authserv-id is ours counts: sender-auth.ts
// puts ours on top and renames any incoming field that claimed our id (RFC 8601 §5), so a sender
// cannot forge what this returns.
import { authservIdFor } from './sender-auth-format.ts';
import { authservIdOf } from './sender-auth-headers.ts';

export interface OwnAuthResults {
  spf: string;
  dkim: string[];
  dmarc: string;
  arc: string;
}

/** The results our header records for each method ('none' for a method it does not name), or null. */
export function readOwnResults(
  headers: readonly (readonly [string, string])[],
  hostname: string,
): OwnAuthResults | null {
  const ours = authservIdFor(hostname).toLowerCase();
  const field = headers.find(
    ([n, v]) => n === 'authentication-results' && authservIdOf(v)?.toLowerCase() === ours,
  );
  if (!field) return null;
  const out: OwnAuthResults = { spf: 'none', dkim: [], dmarc: 'none', arc: 'none' };
  // resinfo: method=result, separated by ';' (RFC 8601 §2.2); comments in parentheses are skipped.
  for (const part of field[1]
    .replace(/\([^()]*\)/g, ' ')
    .split(';')
    .slice(1)) {
    const m = /^\s*(spf|dkim|dmarc|arc)\s*=\s*([a-z]+)/i.exec(part);
    if (!m) continue;
    const method = m[1]!.toLowerCase() as keyof OwnAuthResults;
    const result = m[2]!.toLowerCase();
    if (method === 'dkim') out.dkim.push(result);
    else out[method] = result;
  }
  return out;
}
