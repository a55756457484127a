// A small, linear-time HTML tokenizer for the "HTML source" tab. It only classifies text for
// colouring: the UI renders every token as a text node inside a <span>, so nothing here is ever
// parsed as markup. Malformed input simply yields text tokens.

export type TokenKind = 'text' | 'punct' | 'tag' | 'attr' | 'val' | 'cmt' | 'doc' | 'ent';

export interface Token {
  k: TokenKind;
  v: string;
}

/** Elements whose content is raw text up to the matching end tag. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noscript']);

const NAME = /[A-Za-z][^\s/>]*/y;
const SPACE = /[\s]+/y;
const ATTR_NAME = /[^\s"'>/=]+/y;
const UNQUOTED = /[^\s>]+/y;
const ENTITY = /&(?:#\d{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});/g;

function match(re: RegExp, s: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(s);
  return m ? m[0] : null;
}

/** Splits HTML into coloured tokens; adjacent tokens of one kind are merged. */
export function tokenizeHtml(src: string): Token[] {
  const out: Token[] = [];
  const push = (k: TokenKind, v: string) => {
    if (!v) return;
    const last = out[out.length - 1];
    if (last && last.k === k) last.v += v;
    else out.push({ k, v });
  };
  const pushText = (v: string) => {
    let last = 0;
    for (const m of v.matchAll(ENTITY)) {
      const at = m.index ?? 0;
      push('text', v.slice(last, at));
      push('ent', m[0]);
      last = at + m[0].length;
    }
    push('text', v.slice(last));
  };

  let i = 0;
  const n = src.length;
  while (i < n) {
    const lt = src.indexOf('<', i);
    if (lt === -1) {
      pushText(src.slice(i));
      break;
    }
    if (lt > i) pushText(src.slice(i, lt));
    i = lt;

    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      const stop = end === -1 ? n : end + 3;
      push('cmt', src.slice(i, stop));
      i = stop;
      continue;
    }
    if (src[i + 1] === '!' || src[i + 1] === '?') {
      const end = src.indexOf('>', i);
      const stop = end === -1 ? n : end + 1;
      push('doc', src.slice(i, stop));
      i = stop;
      continue;
    }
    const closing = src[i + 1] === '/';
    const name = match(NAME, src, i + (closing ? 2 : 1));
    if (!name) {
      push('text', '<');
      i++;
      continue;
    }
    push('punct', closing ? '</' : '<');
    push('tag', name);
    i += (closing ? 2 : 1) + name.length;

    // Attributes, up to the closing '>'.
    while (i < n && src[i] !== '>') {
      const ws = match(SPACE, src, i);
      if (ws) {
        push('text', ws);
        i += ws.length;
        continue;
      }
      if (src[i] === '/') {
        push('punct', '/');
        i++;
        continue;
      }
      const attr = match(ATTR_NAME, src, i);
      if (!attr) {
        // A stray quote or '=': show it as text and move on.
        push('text', src[i] as string);
        i++;
        continue;
      }
      push('attr', attr);
      i += attr.length;
      const ws2 = match(SPACE, src, i);
      if (src[i + (ws2?.length ?? 0)] !== '=') continue;
      if (ws2) {
        push('text', ws2);
        i += ws2.length;
      }
      push('punct', '=');
      i++;
      const ws3 = match(SPACE, src, i);
      if (ws3) {
        push('text', ws3);
        i += ws3.length;
      }
      const q = src[i];
      if (q === '"' || q === "'") {
        const end = src.indexOf(q, i + 1);
        const stop = end === -1 ? n : end + 1;
        push('val', src.slice(i, stop));
        i = stop;
      } else {
        const v = match(UNQUOTED, src, i);
        if (v) {
          push('val', v);
          i += v.length;
        }
      }
    }
    if (i < n) {
      push('punct', '>');
      i++;
    }

    const lower = name.toLowerCase();
    if (!closing && RAW_TEXT.has(lower)) {
      const re = new RegExp(`</${lower}[\\s/>]`, 'ig');
      re.lastIndex = i;
      const m = re.exec(src);
      const stop = m ? m.index : n;
      push('text', src.slice(i, stop));
      i = stop;
    }
  }
  return out;
}
