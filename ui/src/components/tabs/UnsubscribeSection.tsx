// The List-Unsubscribe check of a message (RFC 2369, RFC 8058): its URIs, whether one-click
// unsubscribe is declared, DKIM coverage of the two fields, and what is wrong. Nothing is ever
// fetched or posted: a POST to a one-click URI would unsubscribe the recipient.
import type { ComponentChildren } from 'preact';
import { getListUnsubscribe } from '../../api.ts';
import { useAsync } from '../../hooks.ts';
import type { ListUnsubscribeCheck } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';
import { ErrorNote, Loading } from './status.tsx';

function dkimLine(r: ListUnsubscribeCheck): string {
  if (r.DKIM.Signatures === 0) return 'No DKIM signature';
  if (r.DKIM.CoveringDomains.length === 0)
    return `${r.DKIM.Signatures} DKIM signature${r.DKIM.Signatures > 1 ? 's' : ''}, none covering both fields`;
  return `Signed by ${r.DKIM.CoveringDomains.join(', ')}, covering both fields`;
}

function Verdict({ r }: { r: ListUnsubscribeCheck }) {
  const https = r.URIs.some((u) => u.Valid && u.Scheme === 'https');
  return (
    <div class="unsub-verdict">
      {r.OneClick ? (
        <span class="badge badge-ok">One-click declared</span>
      ) : (
        <span class={`badge ${r.Post || https ? 'badge-danger' : ''}`}>No one-click</span>
      )}
      <span class="muted">{dkimLine(r)}</span>
    </div>
  );
}

function Problems({ r }: { r: ListUnsubscribeCheck }) {
  if (r.Errors.length === 0 && r.Warnings.length === 0) return null;
  return (
    <ul class="unsub-problems">
      {r.Errors.map((e) => (
        <li key={e} class="unsub-error">
          <span class="badge badge-danger">error</span> <SafeText text={e} max={500} />
        </li>
      ))}
      {r.Warnings.map((w) => (
        <li key={w} class="unsub-warning">
          <span class="badge badge-warn">warning</span> <SafeText text={w} max={500} />
        </li>
      ))}
    </ul>
  );
}

export function UnsubscribeSection({ id }: { id: string }) {
  const res = useAsync((signal) => getListUnsubscribe(id, signal), [id]);
  let body: ComponentChildren;
  if (res.state === 'loading') body = <Loading label="Checking List-Unsubscribe…" />;
  else if (res.state === 'error') body = <ErrorNote error={res.error} />;
  else if (!res.value.Present && res.value.Errors.length === 0)
    body = <p class="muted">This message has no List-Unsubscribe field.</p>;
  else {
    const r = res.value;
    body = (
      <>
        <Verdict r={r} />
        <dl class="env unsub-fields">
          <dt>List-Unsubscribe</dt>
          <dd>
            {r.URIs.length === 0 ? (
              <span class="muted">(none)</span>
            ) : (
              <ul class="rcpt">
                {r.URIs.map((u) => (
                  <li key={u.URI}>
                    <span class={`badge ${u.Valid ? '' : 'badge-danger'}`}>{u.Scheme || 'invalid'}</span>
                    <SafeText class="mono" text={u.URI} max={400} />
                  </li>
                ))}
              </ul>
            )}
          </dd>
          <dt>List-Unsubscribe-Post</dt>
          <dd>
            {r.Post ? <SafeText class="mono" text={r.Post} max={200} /> : <span class="muted">(none)</span>}
          </dd>
        </dl>
        <Problems r={r} />
      </>
    );
  }
  return (
    <section class="checks-section" aria-labelledby="unsub-title" data-testid="unsubscribe">
      <h3 class="section-title" id="unsub-title">
        List-Unsubscribe
      </h3>
      {body}
    </section>
  );
}
