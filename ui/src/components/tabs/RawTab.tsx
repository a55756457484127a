// The message source exactly as received. Only the head of a large message is fetched (the
// stream is cancelled); the whole is a click or a download away.
import { useState } from 'preact/hooks';
import { fetchTextPrefix, urls } from '../../api.ts';
import { formatSize } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import { IconDownload } from '../Icons.tsx';
import { ChunkedText } from './ChunkedText.tsx';
import { ErrorNote, Loading } from './status.tsx';

const PREVIEW_BYTES = 256 * 1024;
/** "Show all" still stops here: beyond it the download is the better tool. */
const ALL_BYTES = 64 * 1024 * 1024;

export function RawTab({ id, size }: { id: string; size: number }) {
  const [all, setAll] = useState(false);
  const res = useAsync(
    (signal) => fetchTextPrefix(urls.raw(id), all ? ALL_BYTES : PREVIEW_BYTES, signal),
    [id, all],
  );
  if (res.state === 'loading') return <Loading />;
  if (res.state === 'error') return <ErrorNote error={res.error} />;
  return (
    <div class="code-tab">
      {res.value.truncated && (
        <div class="banner banner-warn" role="status">
          <span>
            Showing the first {formatSize(all ? ALL_BYTES : PREVIEW_BYTES)} of {formatSize(size)}.
          </span>
          {!all && (
            <button type="button" class="btn btn-small" onClick={() => setAll(true)}>
              Show all
            </button>
          )}
          <a class="btn btn-small" href={urls.raw(id, true)} download={`${id}.eml`}>
            <IconDownload size={14} /> Download .eml
          </a>
        </div>
      )}
      <ChunkedText text={res.value.text} testId="raw" class="code" />
    </div>
  );
}
