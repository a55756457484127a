// Where a wrapped link leads. Click-tracking services (and Outlook's safe links) replace each
// link with one of their own that carries the destination: in a query parameter (url=, u=, q=...)
// or base64url-encoded in a parameter or a path segment. Opaque wrappers, which only the service
// can resolve, give no destination: nothing is fetched to find out.

/** Parameter names trackers use for the destination; tried first, then every other parameter. */
const TARGET_PARAMS = ['url', 'u', 'q', 'target', 'redirect', 'redirect_url', 'redirect_uri', 'dest', 'link'];

function asHttpUrl(value: string): string | null {
  if (!/^https?:\/\//i.test(value)) return null;
  try {
    return new URL(value).href;
  } catch {
    return null;
  }
}

function fromBase64(value: string): string | null {
  if (value.length < 16 || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) return null;
  return asHttpUrl(Buffer.from(value, 'base64url').toString('utf8'));
}

function wrappedOnce(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  const params = [...u.searchParams];
  const ordered = [
    ...params.filter(([k]) => TARGET_PARAMS.includes(k.toLowerCase())),
    ...params.filter(([k]) => !TARGET_PARAMS.includes(k.toLowerCase())),
  ];
  for (const [, value] of ordered) {
    const found = asHttpUrl(value) ?? fromBase64(value);
    if (found) return found;
  }
  for (const segment of u.pathname.split('/')) {
    const found = fromBase64(segment);
    if (found) return found;
  }
  return null;
}

/** The destination behind tracking wrappers (up to three deep), or null when `url` is direct. */
export function unwrapTarget(url: string): string | null {
  let target: string | null = null;
  for (let depth = 0, at = url; depth < 3; depth++) {
    const next = wrappedOnce(at);
    if (!next || next === at) break;
    target = next;
    at = next;
  }
  return target;
}
