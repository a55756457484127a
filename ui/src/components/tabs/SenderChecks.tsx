// The sender checks of a received message (SPF, each DKIM signature, DMARC, ARC) as badges, with
// our Authentication-Results field as written, and the door the message came in by.
import type { SenderAuth } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';

const LISTENER_LABEL: Record<string, string> = {
  smtp: 'Received by SMTP (MX)',
  smtps: 'Received by SMTP over TLS (MX)',
  submission: 'Submitted by an authenticated SMTP user',
  api: 'Sent through the HTTP API',
  imap: 'Imported by IMAP',
  pop3: 'Imported by POP3',
};

/** Why a message from each door has no sender checks. */
const NOT_CHECKED: Record<string, string> = {
  smtp: 'Mailroom checks senders in MX mode only (--local-domains).',
  smtps: 'Mailroom checks senders in MX mode only (--local-domains).',
  submission: 'Mail from authenticated users is not checked.',
  api: 'Mail sent through the API is not checked.',
};

export function listenerLabel(listener: string): string {
  return LISTENER_LABEL[listener] ?? `Received by ${listener}`;
}

/**
 * RFC 8601 results: pass is good; fail, softfail, permerror and policy mean the sender did not
 * prove itself; temperror is a DNS hiccup worth a second look; neutral and none say nothing.
 */
function resultClass(result: string): string {
  switch (result) {
    case 'pass':
      return 'badge-ok';
    case 'fail':
    case 'softfail':
    case 'permerror':
    case 'policy':
      return 'badge-danger';
    case 'temperror':
      return 'badge-warn';
    default:
      return '';
  }
}

/**
 * The identity each method checked, read from our header in order (comments skipped, as the
 * server does): smtp.mailfrom for SPF, header.d per DKIM signature, header.from for DMARC.
 */
function identities(header: string): { spf: string; dkim: string[]; dmarc: string } {
  const out = { spf: '', dkim: [] as string[], dmarc: '' };
  for (const part of header
    .replace(/\([^()]*\)/g, ' ')
    .split(';')
    .slice(1)) {
    const m = /^\s*(spf|dkim|dmarc)\s*=\s*[a-z]+/i.exec(part);
    if (!m) continue;
    const prop = (name: string) =>
      new RegExp(`${name.replace('.', '\\.')}=("[^"]*"|\\S+)`, 'i').exec(part)?.[1];
    const method = m[1]!.toLowerCase();
    if (method === 'spf') out.spf = prop('smtp.mailfrom') ?? '';
    else if (method === 'dkim') out.dkim.push(prop('header.d') ?? prop('header.i') ?? '');
    else out.dmarc = prop('header.from') ?? '';
  }
  return out;
}

function Check({ method, result, who }: { method: string; result: string; who?: string }) {
  return (
    <li class="auth-check">
      <span class={`badge auth-badge ${resultClass(result)}`}>
        <span class="auth-method">{method}</span>
        {result}
      </span>
      {who && <SafeText class="mono muted" text={who} max={200} />}
    </li>
  );
}

export function SenderChecks({ auth, listener }: { auth: SenderAuth | null; listener: string }) {
  if (!auth) {
    return (
      <p class="muted auth-none" data-testid="auth-none">
        <span class="badge">Not checked</span>{' '}
        {NOT_CHECKED[listener] ?? 'This message carries no sender checks of ours.'}
      </p>
    );
  }
  const who = identities(auth.Header);
  return (
    <>
      <ul class="auth-checks" data-testid="auth-checks">
        <Check method="SPF" result={auth.SPF} who={who.spf} />
        {auth.DKIM.length === 0 ? (
          <Check method="DKIM" result="none" />
        ) : (
          auth.DKIM.map((r, i) => <Check key={i} method="DKIM" result={r} who={who.dkim[i]} />)
        )}
        <Check method="DMARC" result={auth.DMARC} who={who.dmarc} />
        <Check method="ARC" result={auth.ARC} />
      </ul>
      {auth.Header && (
        <details class="auth-header">
          <summary>Authentication-Results</summary>
          <div class="auth-header-text mono">
            <SafeText text={auth.Header} max={4000} />
          </div>
        </details>
      )}
    </>
  );
}
