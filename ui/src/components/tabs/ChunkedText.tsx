// Very long text (megabytes, possibly one line) shown without freezing the page: it is cut into
// blocks that the browser lays out only when they scroll into view (content-visibility: auto).
import { useMemo } from 'preact/hooks';

const CHUNK = 64 * 1024;

/** Splits at a line break near each CHUNK boundary when there is one, else at the boundary. */
export function chunks(text: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(text.length, at + CHUNK);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end);
      if (nl > at + CHUNK / 2) end = nl + 1;
    }
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

export function ChunkedText({ text, testId, class: cls }: { text: string; testId?: string; class?: string }) {
  const parts = useMemo(() => chunks(text), [text]);
  return (
    <div class={`chunked ${cls ?? ''}`} data-testid={testId}>
      {parts.map((p, i) => (
        <pre key={i} class="chunk">
          {p}
        </pre>
      ))}
    </div>
  );
}
