// The message's HTML as highlighted source. Tokens become text nodes inside <span>s, so nothing
// in the message is ever parsed as markup. Huge sources show their head only, with the rest on
// request (unhighlighted) or as a download, so a 10 MB one-line HTML cannot freeze the page.
import { useMemo, useState } from 'preact/hooks';
import { formatCount } from '../../format.ts';
import { tokenizeHtml } from '../../highlight.ts';
import { IconDownload } from '../Icons.tsx';
import { ChunkedText } from './ChunkedText.tsx';
import { DownloadText } from './DownloadText.tsx';

/** Characters highlighted at most. */
export const SOURCE_PREVIEW_CHARS = 128 * 1024;

export function SourceTab({ html, id }: { html: string; id: string }) {
  const [all, setAll] = useState(false);
  const big = html.length > SOURCE_PREVIEW_CHARS;
  const tokens = useMemo(() => tokenizeHtml(big ? html.slice(0, SOURCE_PREVIEW_CHARS) : html), [html, big]);
  return (
    <div class="code-tab">
      {big && (
        <div class="banner banner-warn" role="status">
          <span>
            {all
              ? `Showing all ${formatCount(html.length)} characters, without highlighting.`
              : `Showing the first ${formatCount(SOURCE_PREVIEW_CHARS)} of ${formatCount(html.length)} characters.`}
          </span>
          {!all && (
            <button type="button" class="btn btn-small" onClick={() => setAll(true)}>
              Show all
            </button>
          )}
          <DownloadText text={html} name={`${id}.html.txt`} class="btn btn-small">
            <IconDownload size={14} /> Download
          </DownloadText>
        </div>
      )}
      {all ? (
        <ChunkedText text={html} testId="source" class="code" />
      ) : (
        <pre class="code" data-testid="source">
          {tokens.map((t, i) =>
            t.k === 'text' ? (
              t.v
            ) : (
              <span key={i} class={`t-${t.k}`}>
                {t.v}
              </span>
            ),
          )}
          {big && !all && <span class="t-more">{'\n… (truncated)'}</span>}
        </pre>
      )}
    </div>
  );
}
