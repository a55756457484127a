// How mail programs will render the message's HTML, from caniemail's tables
// (GET /api/v1/message/{ID}/html-check): a score per client family, and each feature used that
// some client supports only partly or not at all, with every client's support, the notes that
// apply and a link to the feature's caniemail page. A family can be chosen to see its issues only.
import { useState } from 'preact/hooks';
import { getHtmlCheck } from '../../api.ts';
import { formatCount } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import type { ClientSupport, HtmlCheckFamily, HtmlCheckResult, HtmlCheckWarning } from '../../types.ts';
import { ErrorNote, Loading } from './status.tsx';

const SUPPORT_LABEL: Record<ClientSupport, string> = {
  yes: 'Supported',
  partial: 'Partial',
  no: 'Not supported',
  unknown: 'Unknown',
};
const SUPPORT_MARK: Record<ClientSupport, string> = { yes: '✓', partial: '◐', no: '✕', unknown: '?' };

const PLATFORM: Record<string, string> = {
  'desktop-webmail': 'Webmail',
  'mobile-webmail': 'Mobile webmail',
  ios: 'iOS',
  android: 'Android',
  macos: 'macOS',
  windows: 'Windows',
  'windows-mail': 'Windows Mail',
  'outlook-com': 'Outlook.com',
};

const pct = (n: number) => `${Math.round(n)}%`;

function scoreClass(score: number): string {
  if (score >= 90) return 'good';
  if (score >= 75) return 'fair';
  return 'poor';
}

/** Supported, partial and unsupported shares as one bar. */
function SupportBar(p: { supported: number; partial: number; unsupported: number; label: string }) {
  return (
    <div
      class="hc-bar"
      role="img"
      aria-label={`${p.label}: ${pct(p.supported)} supported, ${pct(p.partial)} partial, ${pct(p.unsupported)} not supported`}
    >
      <span class="hc-yes" style={{ width: `${p.supported}%` }} />
      <span class="hc-partial" style={{ width: `${p.partial}%` }} />
      <span class="hc-no" style={{ width: `${p.unsupported}%` }} />
    </div>
  );
}

function Families({
  families,
  chosen,
  onChoose,
}: {
  families: HtmlCheckFamily[];
  chosen: string;
  onChoose(f: string): void;
}) {
  return (
    <ul class="hc-families">
      {families.map((f) => (
        <li key={f.Family}>
          <button
            type="button"
            class={`hc-family ${chosen === f.Family ? 'chosen' : ''}`}
            aria-pressed={chosen === f.Family}
            title={`${f.Clients.join(', ')}. ${f.UnsupportedFeatures} not supported, ${f.PartialFeatures} partly.`}
            onClick={() => onChoose(chosen === f.Family ? '' : f.Family)}
          >
            <span class="hc-family-name">{f.Name}</span>
            <span class={`hc-score ${scoreClass(f.Score)}`}>{pct(f.Score)}</span>
            <SupportBar
              supported={f.Supported}
              partial={f.Partial}
              unsupported={f.Unsupported}
              label={f.Name}
            />
            <span class="hc-family-meta muted">
              {f.UnsupportedFeatures > 0 || f.PartialFeatures > 0
                ? `${f.UnsupportedFeatures} unsupported · ${f.PartialFeatures} partial`
                : 'no issues'}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

function Feature({ w, family, names }: { w: HtmlCheckWarning; family: string; names: Map<string, string> }) {
  const results = family ? w.Results.filter((r) => r.Family === family) : w.Results;
  const byFamily = new Map<string, typeof results>();
  for (const r of results) byFamily.set(r.Family, [...(byFamily.get(r.Family) ?? []), r]);
  const notes = [...new Set(results.flatMap((r) => r.NoteNumbers))].filter((n) => w.NotesByNumber[n]);
  return (
    <details class="hc-feature" data-slug={w.Slug}>
      <summary>
        <span class="badge">{w.Category.toUpperCase()}</span>
        <span class="hc-feature-title">{w.Title}</span>
        <span class="muted hc-found">×{formatCount(w.Score.Found)}</span>
        <span class="spacer" />
        <SupportBar
          supported={w.Score.Supported}
          partial={w.Score.Partial}
          unsupported={w.Score.Unsupported}
          label={w.Title}
        />
        <span class="hc-feature-pct">{pct(w.Score.Unsupported)} no</span>
      </summary>
      <div class="hc-feature-body">
        {w.Description && <p>{w.Description}</p>}
        {w.URL && (
          <p>
            <a href={w.URL} target="_blank" rel="noopener noreferrer">
              {w.Title} on caniemail.com
            </a>
          </p>
        )}
        <table class="kv-table hc-clients">
          <tbody>
            {[...byFamily].map(([fam, list]) => (
              <tr key={fam}>
                <th scope="row">{names.get(fam) ?? fam}</th>
                <td>
                  {list.map((r) => (
                    <span
                      key={r.Platform}
                      class={`hc-support hc-${r.Support}`}
                      title={`${r.Name}: ${SUPPORT_LABEL[r.Support]}`}
                    >
                      <span aria-hidden="true">{SUPPORT_MARK[r.Support]}</span>{' '}
                      {PLATFORM[r.Platform] ?? r.Platform}
                      {r.NoteNumbers.length > 0 && <sup>{r.NoteNumbers.join(',')}</sup>}
                      <span class="sr-only"> {SUPPORT_LABEL[r.Support]}</span>
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {notes.length > 0 && (
          <ol class="hc-notes">
            {notes.map((n) => (
              <li key={n} value={Number(n)} class="hc-note">
                {w.NotesByNumber[n]}
              </li>
            ))}
          </ol>
        )}
      </div>
    </details>
  );
}

function Summary({ r }: { r: HtmlCheckResult }) {
  const score = r.Total.Supported + r.Total.Partial / 2;
  return (
    <div class="hc-summary">
      <div class={`hc-total ${scoreClass(score)}`}>
        <span class="hc-total-num">{pct(score)}</span>
        <span class="hc-total-label">support</span>
      </div>
      <div class="hc-summary-text">
        <SupportBar
          supported={r.Total.Supported}
          partial={r.Total.Partial}
          unsupported={r.Total.Unsupported}
          label="All clients"
        />
        <p class="muted">
          {formatCount(r.Warnings.length)} feature{r.Warnings.length === 1 ? '' : 's'} with issues, in{' '}
          {formatCount(r.Total.Nodes)} elements. <span class="hc-legend hc-yes-l">supported</span>{' '}
          <span class="hc-legend hc-partial-l">partial</span>{' '}
          <span class="hc-legend hc-no-l">not supported</span>
        </p>
      </div>
    </div>
  );
}

export function HtmlCheckTab({ id }: { id: string }) {
  const res = useAsync((signal) => getHtmlCheck(id, signal), [id]);
  const [family, setFamily] = useState('');
  if (res.state === 'loading') return <Loading label="Checking the HTML against caniemail…" />;
  if (res.state === 'error') return <ErrorNote error={res.error} />;
  const r = res.value;
  const chosen = r.Families.find((f) => f.Family === family);
  const names = new Map(r.Families.map((f) => [f.Family, f.Name]));
  const warnings = chosen
    ? r.Warnings.filter((w) =>
        w.Results.some((x) => x.Family === family && (x.Support === 'no' || x.Support === 'partial')),
      )
    : r.Warnings;
  return (
    <div class="pad checks" data-testid="html-check">
      <Summary r={r} />
      {r.Truncated && (
        <div class="banner banner-warn" role="status">
          The HTML is longer than 2 MiB; only its first 2 MiB were checked.
        </div>
      )}
      <section class="checks-section" aria-labelledby="hc-families-title">
        <h3 class="section-title" id="hc-families-title">
          By client
        </h3>
        <Families families={r.Families} chosen={family} onChoose={setFamily} />
      </section>
      <section class="checks-section" aria-labelledby="hc-features-title">
        <h3 class="section-title" id="hc-features-title">
          {chosen ? `Issues in ${chosen.Name}` : 'Features with issues'}{' '}
          <span class="count">{formatCount(warnings.length)}</span>
          {chosen && (
            <button type="button" class="link-btn" onClick={() => setFamily('')}>
              show all clients
            </button>
          )}
        </h3>
        {warnings.length === 0 ? (
          <p class="muted">
            Nothing this message uses is a problem {chosen ? `in ${chosen.Name}` : 'anywhere'}.
          </p>
        ) : (
          <div class="hc-features">
            {warnings.map((w) => (
              <Feature key={w.Slug} w={w} family={family} names={names} />
            ))}
          </div>
        )}
      </section>
      <p class="muted hc-source">
        Support data from caniemail.com, updated {r.DataDate.slice(0, 10)}; each client at the latest version
        tested.
      </p>
    </div>
  );
}
