// The header section of a raw message as Mailpit's headers endpoint returns it: header name →
// every value in order, names in Go's canonical form (`Message-Id`, `Content-Type`), folded lines
// unfolded (RFC 5322 §2.2.3) and values trimmed. Encoded words (RFC 2047) are left as sent, as
// Mailpit does, so clients see exactly what arrived. Keys are sorted, matching Go's JSON maps.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go's textproto.CanonicalMIMEHeaderKey: names with non-token characters are left unchanged. */
export function canonicalHeaderName(name: string): string {
  if (!TOKEN.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
}

/** The bytes before the first empty line (CRLF CRLF, or bare LF LF from lenient clients). */
function headerSection(raw: Uint8Array): Uint8Array {
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x0a) continue;
    if (raw[i + 1] === 0x0a) return raw.subarray(0, i);
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return raw.subarray(0, i);
  }
  return raw;
}

/** Joins folded continuation lines onto the field they continue. */
function unfold(text: string): string[] {
  const fields: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      const last = fields.length - 1;
      // A continuation before any field has nothing to continue; it is dropped.
      if (last >= 0) fields[last] = `${fields[last]!.trimEnd()} ${line.trim()}`;
    } else if (line !== '') {
      fields.push(line);
    }
  }
  return fields;
}

export function parseHeaders(raw: Uint8Array): Record<string, string[]> {
  // Non-UTF-8 bytes become U+FFFD, as Go's JSON encoder renders them in Mailpit.
  const text = new TextDecoder('utf-8').decode(headerSection(raw));
  const map = new Map<string, string[]>();
  for (const field of unfold(text)) {
    const colon = field.indexOf(':');
    // A line without a colon is not a header field (an mbox "From " line, garbage): skip it.
    if (colon <= 0) continue;
    const name = canonicalHeaderName(field.slice(0, colon).trim());
    const value = field.slice(colon + 1).trim();
    const values = map.get(name);
    if (values) values.push(value);
    else map.set(name, [value]);
  }
  // Object.fromEntries defines own properties, so a header named "__proto__" stays plain data.
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
