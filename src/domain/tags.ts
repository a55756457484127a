// Tag names: what a valid one looks like, and how a name the user or a message gave is cleaned.

export const MAX_TAG_LENGTH = 100;
/** Tags one message may carry; more are ignored. */
export const MAX_TAGS_PER_MESSAGE = 50;

/** Letters and digits of any script, then also spaces, `.`, `_`, `-`, `+`, `/`, `:` and `@`. */
const VALID = /^[\p{L}\p{N}][\p{L}\p{N}\p{M} ._\-+/:@]*$/u;

/**
 * Trims and collapses inner white space; returns null for a name that is empty, too long, or holds
 * other characters (control characters, quotes, commas, brackets...). Mailpit drops such names
 * silently; so does Mailroom when they come from a message, and the API refuses them.
 */
export function cleanTag(name: string): string | null {
  const t = name.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (t.length === 0 || t.length > MAX_TAG_LENGTH || !VALID.test(t)) return null;
  return t;
}
