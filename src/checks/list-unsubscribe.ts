// Checks a message's unsubscribe fields: List-Unsubscribe (RFC 2369 §3.2) and one-click
// unsubscribe (RFC 8058). Reports each URI, whether one-click is declared as RFC 8058 asks, and
// what is wrong (errors) or worth fixing (warnings). Nothing here fetches or POSTs a URI: a POST
// to a one-click URI would unsubscribe the recipient.
//
// The DKIM part reads the h= tag of each DKIM-Signature (RFC 6376 §3.5): RFC 8058 §4 wants both
// fields covered by a valid signature. Whether the signature verifies needs the signer's DNS and
// is the sender checks' job; this says whether a signature would cover the fields.

export interface UnsubscribeUri {
  URI: string;
  Scheme: string;
  Valid: boolean;
  /** For mailto: the address, and the subject and body a reply should carry (RFC 6068). */
  Mailto: { Address: string; Subject: string; Body: string } | null;
}

export interface ListUnsubscribeCheck {
  /** A List-Unsubscribe field is present. */
  Present: boolean;
  /** The fields as received (the first of each), unfolded. */
  Header: string;
  Post: string;
  URIs: UnsubscribeUri[];
  /** An https URI and List-Unsubscribe-Post: List-Unsubscribe=One-Click, and no DKIM signature
   * present that leaves either field uncovered. */
  OneClick: boolean;
  DKIM: {
    /** DKIM-Signature fields present. */
    Signatures: number;
    /** Signing domains (d=) of the signatures whose h= covers both fields. */
    CoveringDomains: string[];
  };
  Errors: string[];
  Warnings: string[];
}

const ONE_CLICK = 'List-Unsubscribe=One-Click';

/** The values of a header (case-insensitive), in order. */
function valuesOf(headers: Record<string, string[]>, name: string): string[] {
  const wanted = name.toLowerCase();
  return Object.entries(headers).flatMap(([key, values]) => (key.toLowerCase() === wanted ? values : []));
}

/** RFC 2369 §2: a comma-separated list of <URI>s; whitespace inside the brackets is not part of it. */
function splitEntries(value: string, errors: string[]): string[] {
  const uris: string[] = [];
  // Comments (RFC 5322 §3.2.2) are allowed between entries.
  const text = value.replace(/\([^()]*\)/g, ' ');
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('<', at);
    const between = (open === -1 ? text.slice(at) : text.slice(at, open)).replace(/[\s,]/g, '');
    if (between !== '')
      errors.push(
        `List-Unsubscribe has text outside angle brackets ("${between.slice(0, 40)}"); RFC 2369 §2 encloses every URI in < and >.`,
      );
    if (open === -1) break;
    const close = text.indexOf('>', open + 1);
    if (close === -1) {
      errors.push('List-Unsubscribe has a < that is never closed.');
      break;
    }
    uris.push(text.slice(open + 1, close).replace(/\s+/g, ''));
    at = close + 1;
  }
  return uris;
}

function mailtoParts(url: URL): UnsubscribeUri['Mailto'] {
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return {
    Address: decode(url.pathname),
    Subject: url.searchParams.get('subject') ?? '',
    Body: url.searchParams.get('body') ?? '',
  };
}

function inspectUri(uri: string, errors: string[], warnings: string[]): UnsubscribeUri {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    errors.push(`"${uri.slice(0, 100)}" is not a valid URI.`);
    return { URI: uri, Scheme: '', Valid: false, Mailto: null };
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const entry: UnsubscribeUri = { URI: uri, Scheme: scheme, Valid: true, Mailto: null };
  if (scheme === 'mailto') {
    entry.Mailto = mailtoParts(url);
    if (!/^[^@\s]+@[^@\s]+$/.test(entry.Mailto?.Address ?? '')) {
      errors.push(`${uri.slice(0, 100)} has no valid address to write to.`);
      entry.Valid = false;
    }
  } else if (scheme === 'http') {
    warnings.push(
      `${uri.slice(0, 100)} is plain http: one-click needs https (RFC 8058 §3.1), and readers' clients may refuse it.`,
    );
  } else if (scheme === 'https') {
    if (url.username || url.password) errors.push(`${uri.slice(0, 100)} carries credentials.`);
  } else {
    warnings.push(`${uri.slice(0, 100)}: mail programs act on mailto: and https: URIs only.`);
  }
  return entry;
}

/** The h= list of a DKIM-Signature value, lower-cased, and its d= domain. */
export function dkimCoverage(signature: string): { domain: string; headers: string[] } {
  const tags = new Map<string, string>();
  for (const part of signature.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1));
  }
  const headers = (tags.get('h') ?? '')
    .replace(/\s+/g, '')
    .split(':')
    .map((h) => h.toLowerCase())
    .filter(Boolean);
  return { domain: (tags.get('d') ?? '').trim().toLowerCase(), headers };
}

function checkDkim(headers: Record<string, string[]>) {
  const signatures = valuesOf(headers, 'DKIM-Signature').map(dkimCoverage);
  const covering = signatures.filter(
    (s) => s.headers.includes('list-unsubscribe') && s.headers.includes('list-unsubscribe-post'),
  );
  return { Signatures: signatures.length, CoveringDomains: [...new Set(covering.map((s) => s.domain))] };
}

/** One-click (RFC 8058 §3.1): the Post field's exact value, and one https URI to POST to. */
function checkOneClick(post: string, uris: UnsubscribeUri[], dkim: ListUnsubscribeCheck['DKIM']) {
  const errors: string[] = [];
  const warnings: string[] = [];
  const https = uris.filter((u) => u.Valid && u.Scheme === 'https');
  if (post === '') {
    if (https.length > 0)
      warnings.push(
        `One-click unsubscribe is not declared: add "List-Unsubscribe-Post: ${ONE_CLICK}" (RFC 8058 §3.1); large mailbox providers ask bulk senders for it.`,
      );
    return { ok: false, errors, warnings };
  }
  if (post !== ONE_CLICK) {
    const hint =
      post.replace(/\s+/g, '').toLowerCase() === ONE_CLICK.toLowerCase() ? ' (spelled differently)' : '';
    errors.push(
      `List-Unsubscribe-Post must be exactly "${ONE_CLICK}"${hint}, not "${post.slice(0, 80)}" (RFC 8058 §3.1).`,
    );
  }
  if (https.length === 0)
    errors.push(
      'List-Unsubscribe-Post is set, but List-Unsubscribe has no https URI to POST to (RFC 8058 §3.1).',
    );
  if (https.length > 1)
    warnings.push('List-Unsubscribe has more than one https URI; RFC 8058 §3.1 expects one.');
  if (dkim.Signatures === 0) {
    warnings.push(
      'No DKIM signature: RFC 8058 §4 requires one covering List-Unsubscribe and List-Unsubscribe-Post, or receivers ignore one-click (sign before sending).',
    );
  } else if (dkim.CoveringDomains.length === 0) {
    errors.push(
      'No DKIM signature covers both List-Unsubscribe and List-Unsubscribe-Post (its h= tag must name them, RFC 8058 §4).',
    );
  }
  return { ok: errors.length === 0, errors, warnings };
}

/** Checks the unsubscribe fields of a message's header section (name → values, as received). */
export function checkListUnsubscribe(headers: Record<string, string[]>): ListUnsubscribeCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const fields = valuesOf(headers, 'List-Unsubscribe');
  const posts = valuesOf(headers, 'List-Unsubscribe-Post');
  const header = (fields[0] ?? '').trim();
  const post = (posts[0] ?? '').trim();
  if (fields.length > 1)
    warnings.push(`List-Unsubscribe appears ${fields.length} times; receivers read one.`);
  if (posts.length > 1)
    warnings.push(`List-Unsubscribe-Post appears ${posts.length} times; receivers read one.`);
  const uris = header ? splitEntries(header, errors).map((u) => inspectUri(u, errors, warnings)) : [];
  const dkim = checkDkim(headers);
  if (fields.length === 0 || header === '') {
    if (post !== '') errors.push('List-Unsubscribe-Post is set without List-Unsubscribe.');
    return {
      Present: false,
      Header: header,
      Post: post,
      URIs: [],
      OneClick: false,
      DKIM: dkim,
      Errors: errors,
      Warnings: warnings,
    };
  }
  if (uris.length === 0) errors.push('List-Unsubscribe holds no URI.');
  const oneClick = checkOneClick(post, uris, dkim);
  return {
    Present: true,
    Header: header,
    Post: post,
    URIs: uris,
    OneClick: oneClick.ok,
    DKIM: dkim,
    Errors: [...errors, ...oneClick.errors],
    Warnings: [...warnings, ...oneClick.warnings],
  };
}
