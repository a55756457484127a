// Safe response headers for message parts. File names come from the message, i.e. from whoever
// sent it: they may hold path separators, control characters or bidirectional overrides that
// disguise "exe.pdf" as "fdp.exe". They are cleaned before reaching the browser's save dialog.

const MAX_NAME = 200;

/** Removes what could mislead the user or the file system; falls back when nothing is left. */
export function sanitiseFilename(name: string, fallback: string): string {
  const cleaned = name
    .normalize('NFC')
    // Cc: control characters (incl. CR/LF header injection); Cf: format characters such as the
    // bidi overrides U+202A..U+202E and isolates U+2066..U+2069, and zero-width characters.
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/[/\\]/g, '_')
    .trim()
    // A leading dot would make a hidden file, and ".." a parent directory reference.
    .replace(/^\.+/, '');
  const clipped = [...cleaned].slice(0, MAX_NAME).join('').trim();
  return clipped === '' ? fallback : clipped;
}

/** RFC 8187 §3.2.1 attr-char: what may appear unencoded in an ext-value. */
function encodeExtValue(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * RFC 6266 §4.3: a plain ASCII `filename` for old agents plus `filename*` (UTF-8) when the name
 * is not ASCII. The fallback avoids `"`, `\` and `%` (some agents percent-decode `filename`).
 */
export function contentDisposition(type: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  if (ascii === filename) return `${type}; filename="${ascii}"`;
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(filename)}`;
}

const MEDIA_TYPE = /^[A-Za-z0-9!#$&^_.+-]{1,64}\/[A-Za-z0-9!#$&^_.+-]{1,128}$/;
const CHARSET = /;\s*charset="?([A-Za-z0-9!#$%&'+^_`{}~.-]{1,40})"?/i;

/** Keeps only a well-formed `type/subtype` (and a charset for text), else octet-stream. */
export function safeContentType(declared: string): string {
  const essence = declared.split(';')[0]!.trim().toLowerCase();
  if (!MEDIA_TYPE.test(essence)) return 'application/octet-stream';
  const charset = essence.startsWith('text/') ? CHARSET.exec(declared)?.[1] : undefined;
  return charset ? `${essence}; charset=${charset}` : essence;
}
