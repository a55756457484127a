// The SpamAssassin verdict (score, spam or not, rules hit). A 404 means no spam checker is
// configured on the server.
import { getSpamCheck } from '../../api.ts';
import { useAsync } from '../../hooks.ts';
import type { WebUiConfig } from '../../types.ts';
import { ErrorNote, Loading } from './status.tsx';

/**
 * `config` is the server's /api/v1/webui (null while it loads): SpamAssassin false means no
 * checker, so nothing is asked; true, or a server that does not say, means ask (404 = none).
 */

export function SpamTab({ id, config }: { id: string; config: WebUiConfig | null }) {
  const enabled = config === null ? null : config.SpamAssassin !== false;
  const res = useAsync(
    (signal) =>
      enabled === null
        ? new Promise<never>(() => {})
        : enabled
          ? getSpamCheck(id, signal)
          : Promise.resolve(null),
    [id, enabled],
  );
  if (res.state === 'loading') return <Loading label="Checking with SpamAssassin…" />;
  if ((res.state === 'error' && res.error.status === 404) || (res.state === 'ok' && res.value === null)) {
    return (
      <div class="pad">
        <div class="banner banner-info" data-testid="spam-off">
          Spam check not configured. Start Mailroom with --spamassassin (a spamd address) or --rspamd (an
          Rspamd URL) to score messages.
        </div>
      </div>
    );
  }
  if (res.state === 'error') return <ErrorNote error={res.error} />;
  const r = res.value;
  if (!r) return null;
  if (r.Error) {
    return (
      <div class="pad">
        <div class="banner banner-error" role="alert">
          SpamAssassin could not check this message: {r.Error}
        </div>
      </div>
    );
  }
  const rules = [...(r.Rules ?? [])].sort((a, b) => b.Score - a.Score);
  const pct = Math.max(0, Math.min(100, (r.Score / 10) * 100));
  return (
    <div class="pad">
      <div class="spam-summary">
        <div class={`spam-score ${r.IsSpam ? 'is-spam' : 'is-ham'}`}>
          <span class="spam-num">{r.Score.toFixed(1)}</span>
          <span class="spam-label">{r.IsSpam ? 'Spam' : 'Not spam'}</span>
        </div>
        <div class="spam-bar" aria-hidden="true">
          <div class="spam-fill" style={{ width: `${pct}%` }} />
        </div>
      </div>
      <table class="kv-table rules">
        <thead>
          <tr>
            <th scope="col">Score</th>
            <th scope="col">Rule</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {rules.map((rule) => (
            <tr key={rule.Name}>
              <td class={`mono num ${rule.Score > 0 ? 'pos' : rule.Score < 0 ? 'neg' : ''}`}>
                {rule.Score > 0 ? '+' : ''}
                {rule.Score.toFixed(1)}
              </td>
              <td class="mono">{rule.Name}</td>
              <td>{rule.Description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rules.length === 0 && <p class="muted">No rules were triggered.</p>}
    </div>
  );
}
