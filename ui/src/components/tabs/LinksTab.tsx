// The links of a message and its one-time code (GET /api/v1/message/{ID}/extract), the status of
// each web link on request (link-check, run by the server through its address policy), and the
// List-Unsubscribe check. Links open in a new tab without a referrer; nothing is fetched from
// the browser.
import { useState } from 'preact/hooks';
import { getExtract, getLinkCheck } from '../../api.ts';
import { formatCount } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import type { ExtractedCode, ExtractedLink, LinkCheckResult, LinkStatus } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';
import { toast } from '../Toasts.tsx';
import { ErrorNote, Loading } from './status.tsx';
import { UnsubscribeSection } from './UnsubscribeSection.tsx';

const isWeb = (l: ExtractedLink) => l.Scheme === 'http' || l.Scheme === 'https';

async function copy(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast(`Copied the ${what}`);
  } catch {
    toast(`Could not copy the ${what}: the browser refused`, 'error');
  }
}

function statusBadge(s: LinkStatus): { cls: string; label: string } {
  if (s.Blocked) return { cls: 'badge-warn', label: 'blocked' };
  if (s.StatusCode === 0) return { cls: 'badge-danger', label: 'error' };
  if (s.StatusCode >= 400) return { cls: 'badge-danger', label: String(s.StatusCode) };
  if (s.StatusCode >= 300) return { cls: 'badge-accent', label: String(s.StatusCode) };
  return { cls: 'badge-ok', label: String(s.StatusCode) };
}

function Codes({ codes }: { codes: ExtractedCode[] }) {
  const [best, ...others] = codes;
  if (!best) return null;
  return (
    <section class="checks-section" aria-labelledby="codes-title">
      <h3 class="section-title" id="codes-title">
        One-time code
      </h3>
      <div class="otp-card" data-testid="otp">
        <span class="otp-code mono">
          <SafeText text={best.Code} max={40} />
        </span>
        <button type="button" class="btn btn-small" onClick={() => copy(best.Code, 'code')}>
          Copy
        </button>
        <span class="otp-why muted">
          {best.Score}% likely: {best.Reasons.join(', ')}
        </span>
      </div>
      <p class="otp-context muted">
        <SafeText text={best.Context} max={300} />
      </p>
      {others.length > 0 && (
        <p class="otp-others muted">
          Also possible:{' '}
          {others.map((c, i) => (
            <span key={c.Code} title={c.Reasons.join(', ')}>
              {i > 0 && ', '}
              <span class="mono">
                <SafeText text={c.Code} max={40} />
              </span>{' '}
              ({c.Score}%)
            </span>
          ))}
        </p>
      )}
    </section>
  );
}

function LinkRow({ link, status }: { link: ExtractedLink; status: LinkStatus | undefined }) {
  const badge = status ? statusBadge(status) : null;
  return (
    <tr data-url={link.URL}>
      <td class="link-cell">
        {link.Text && (
          <div class="link-text">
            <SafeText text={link.Text} max={200} />
          </div>
        )}
        <div class="link-url">
          {isWeb(link) ? (
            <a href={link.URL} target="_blank" rel="noopener noreferrer" class="mono">
              <SafeText text={link.URL} max={300} />
            </a>
          ) : (
            <SafeText class="mono" text={link.URL} max={300} />
          )}{' '}
          <button
            type="button"
            class="link-btn copy-link"
            onClick={() => copy(link.URL, 'link')}
            aria-label={`Copy ${link.URL.slice(0, 80)}`}
          >
            copy
          </button>
        </div>
        {link.Target && (
          <div class="link-target muted" title="Where the tracking wrapper leads">
            → <SafeText class="mono" text={link.Target} max={300} />
          </div>
        )}
      </td>
      <td class="link-found">
        {link.Sources.map((s) => (
          <span key={s} class="badge">
            {s === 'html' ? 'HTML' : 'Text'}
          </span>
        ))}
        {link.Count > 1 && <span class="muted"> ×{link.Count}</span>}
      </td>
      <td class="link-status" aria-live="polite">
        {badge && status ? (
          <>
            <span class={`badge ${badge.cls}`}>{badge.label}</span>{' '}
            <SafeText class="link-status-text" text={status.Status} max={300} />
            {status.Redirects.length > 0 && (
              <span class="muted">
                {' '}
                after {status.Redirects.length} redirect{status.Redirects.length > 1 ? 's' : ''}
              </span>
            )}
            {status.Location && (
              <div class="muted">
                → <SafeText class="mono" text={status.Location} max={300} />
              </div>
            )}
          </>
        ) : (
          <span class="muted">{isWeb(link) ? '—' : 'not a web link'}</span>
        )}
      </td>
    </tr>
  );
}

function LinkTable({ links, statuses }: { links: ExtractedLink[]; statuses: Map<string, LinkStatus> }) {
  return (
    <div class="links-table-wrap">
      <table class="kv-table links-table">
        <thead>
          <tr>
            <th scope="col">Link</th>
            <th scope="col">Found in</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {links.map((l) => (
            <LinkRow key={l.URL} link={l} status={statuses.get(l.URL)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CheckSummary({ result, follow }: { result: LinkCheckResult; follow: boolean }) {
  const blocked = result.Links.filter((l) => l.Blocked).length;
  const kind = result.Errors === 0 ? 'banner-info' : 'banner-warn';
  return (
    <div class={`banner ${kind} checks-banner`} role="status" data-testid="link-summary">
      {formatCount(result.Links.length)} web link{result.Links.length === 1 ? '' : 's'} checked
      {follow ? ', redirects followed' : ''}: {formatCount(result.Errors)} with errors
      {blocked > 0 &&
        ` (${formatCount(blocked)} blocked: internal addresses are refused unless --webhook-allow names them)`}
      .
    </div>
  );
}

export function LinksTab({ id }: { id: string }) {
  const res = useAsync((signal) => getExtract(id, signal), [id]);
  const [follow, setFollow] = useState(false);
  const [check, setCheck] = useState<{
    id: string;
    busy: boolean;
    result?: LinkCheckResult;
    follow: boolean;
  }>();
  const current = check?.id === id ? check : undefined;
  if (res.state === 'loading') return <Loading label="Reading the links…" />;
  if (res.state === 'error') return <ErrorNote error={res.error} />;
  const { Links, Codes: codes, Truncated } = res.value;
  const links = Links.filter((l) => l.Kind === 'link');
  const resources = Links.filter((l) => l.Kind !== 'link');
  const statuses = new Map((current?.result?.Links ?? []).map((s) => [s.URL, s]));
  const webCount = Links.filter(isWeb).length;

  const run = async () => {
    setCheck({ id, busy: true, follow, result: current?.result });
    try {
      const result = await getLinkCheck(id, follow);
      setCheck({ id, busy: false, follow, result });
    } catch (err) {
      setCheck({ id, busy: false, follow });
      toast(`The link check failed: ${(err as Error).message}`, 'error');
    }
  };

  return (
    <div class="pad checks" data-testid="links-tab">
      {Truncated && (
        <div class="banner banner-warn" role="status">
          This message is longer than 2 MiB; links were read from its first 2 MiB only.
        </div>
      )}
      <Codes codes={codes} />
      <section class="checks-section" aria-labelledby="links-title">
        <div class="checks-head">
          <h3 class="section-title" id="links-title">
            Links <span class="count">{formatCount(links.length)}</span>
          </h3>
          <span class="spacer" />
          <label class="checks-toggle">
            <input
              type="checkbox"
              checked={follow}
              onChange={(e) => setFollow((e.target as HTMLInputElement).checked)}
            />
            Follow redirects
          </label>
          <button
            type="button"
            class="btn btn-small btn-primary"
            onClick={run}
            disabled={current?.busy || webCount === 0}
            title="The server asks each web link for its status (HEAD, then GET)"
          >
            {current?.busy ? 'Checking…' : current?.result ? 'Check again' : 'Check links'}
          </button>
        </div>
        {current?.busy && <Loading label="Checking links…" />}
        {current?.result && !current.busy && <CheckSummary result={current.result} follow={current.follow} />}
        {links.length > 0 ? (
          <LinkTable links={links} statuses={statuses} />
        ) : (
          <p class="muted">This message has no links.</p>
        )}
        {resources.length > 0 && (
          <details class="checks-more">
            <summary>Images and stylesheets ({formatCount(resources.length)})</summary>
            <LinkTable links={resources} statuses={statuses} />
          </details>
        )}
      </section>
      <UnsubscribeSection id={id} />
    </div>
  );
}
