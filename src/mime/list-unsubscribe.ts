// List-Unsubscribe (RFC 2369 §3.2) and List-Unsubscribe-Post (RFC 8058 §3.1), checked the way
// Mailpit reports them: the header as sent, the links found, and any problems as one sentence.
import type { ParsedMessage } from '../domain/message.ts';

type ListUnsubscribe = ParsedMessage['listUnsubscribe'];

const ALLOWED_SCHEMES = new Set(['mailto:', 'http:', 'https:']);

/** Splits the header into its <...> entries; text outside angle brackets is an error (RFC 2369 §2). */
function entries(header: string, errors: string[]): string[] {
  const links: string[] = [];
  let i = 0;
  while (i < header.length) {
    const lt = header.indexOf('<', i);
    const between = (lt === -1 ? header.slice(i) : header.slice(i, lt)).replace(/[\s,]/g, '');
    if (between !== '') errors.push(`unexpected text outside angle brackets: "${between.slice(0, 40)}"`);
    if (lt === -1) break;
    const gt = header.indexOf('>', lt + 1);
    if (gt === -1) {
      errors.push('unterminated <');
      break;
    }
    links.push(header.slice(lt + 1, gt).replace(/\s+/g, ''));
    i = gt + 1;
  }
  return links;
}

function checkLink(link: string, errors: string[]): void {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    errors.push(`invalid link "${link.slice(0, 80)}"`);
    return;
  }
  if (!ALLOWED_SCHEMES.has(url.protocol))
    errors.push(`unsupported scheme ${url.protocol} in "${link.slice(0, 80)}"`);
}

export function parseListUnsubscribe(header: string | undefined, post: string | undefined): ListUnsubscribe {
  const value = (header ?? '').trim();
  const postValue = (post ?? '').trim();
  const errors: string[] = [];
  const links = value ? entries(value, errors) : [];
  for (const link of links) checkLink(link, errors);
  if (postValue) {
    // RFC 8058 §3.1: one-click needs exactly this key and value, and an HTTPS URI to POST to.
    if (postValue.replace(/\s+/g, '') !== 'List-Unsubscribe=One-Click') {
      errors.push('List-Unsubscribe-Post must be "List-Unsubscribe=One-Click"');
    }
    if (!links.some((l) => l.toLowerCase().startsWith('https:'))) {
      errors.push('List-Unsubscribe-Post needs an https link in List-Unsubscribe');
    }
  }
  return { header: value, links, post: postValue, errors: errors.join('; ') };
}
