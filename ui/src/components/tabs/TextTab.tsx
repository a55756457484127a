// The plain-text body. Web addresses become links (http and https only, opened in a new tab
// without referrer); everything else is text. Long bodies show their head first.
import { useMemo, useState } from 'preact/hooks';
import { formatCount } from '../../format.ts';
import { ChunkedText } from './ChunkedText.tsx';

const PREVIEW_CHARS = 512 * 1024;
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]/g;

export function TextTab({ text }: { text: string }) {
  const [all, setAll] = useState(false);
  const big = text.length > PREVIEW_CHARS;
  const shown = big && !all ? text.slice(0, PREVIEW_CHARS) : text;
  const parts = useMemo(() => {
    const out: (string | { url: string })[] = [];
    // A huge body is shown in chunks, unlinked.
    if (shown.length > PREVIEW_CHARS) return [];
    let last = 0;
    for (const m of shown.matchAll(URL_RE)) {
      const at = m.index ?? 0;
      if (at > last) out.push(shown.slice(last, at));
      out.push({ url: m[0] });
      last = at + m[0].length;
    }
    if (last < shown.length) out.push(shown.slice(last));
    return out;
  }, [shown]);
  if (!text) return <p class="muted pad">This message has no plain-text part.</p>;
  return (
    <div class="code-tab">
      {big && !all && (
        <div class="banner banner-warn" role="status">
          <span>
            Showing the first {formatCount(PREVIEW_CHARS)} of {formatCount(text.length)} characters.
          </span>
          <button type="button" class="btn btn-small" onClick={() => setAll(true)}>
            Show all
          </button>
        </div>
      )}
      {shown.length > PREVIEW_CHARS ? (
        <ChunkedText text={shown} testId="text" class="text-body" />
      ) : (
        <pre class="text-body" data-testid="text">
          {parts.map((p, i) =>
            typeof p === 'string' ? (
              p
            ) : (
              <a key={i} href={p.url} target="_blank" rel="noopener noreferrer">
                {p.url}
              </a>
            ),
          )}
        </pre>
      )}
    </div>
  );
}
