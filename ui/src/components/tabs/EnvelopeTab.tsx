// What the SMTP session recorded: the envelope sender and recipients (so Bcc recipients, which
// no header names, are visible), the client, HELO, TLS, authentication and listener.
import { addressFull, formatFullTime } from '../../format.ts';
import type { Message } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';
import { DeliverySection } from './DeliverySection.tsx';

export function EnvelopeTab({ msg }: { msg: Message }) {
  const e = msg.Envelope;
  if (!e) return <p class="muted pad">The server did not report the SMTP envelope for this message.</p>;
  const inHeaders = new Set(
    [...(msg.To ?? []), ...(msg.Cc ?? [])].map((a) => a.Address.toLowerCase()).filter(Boolean),
  );
  const client = e.ClientPort
    ? `${e.ClientIP.includes(':') ? `[${e.ClientIP}]` : e.ClientIP}:${e.ClientPort}`
    : e.ClientIP;
  return (
    <div class="pad">
      <dl class="env">
        <dt>MAIL FROM</dt>
        <dd class="mono">
          {e.MailFrom ? (
            <SafeText text={`<${e.MailFrom}>`} />
          ) : (
            <span class="muted">&lt;&gt; (null sender, a bounce)</span>
          )}
        </dd>
        <dt>RCPT TO</dt>
        <dd>
          <ul class="rcpt">
            {e.RcptTo.map((r) => (
              <li key={r} class="mono">
                <SafeText text={`<${r}>`} />
                {!inHeaders.has(r.toLowerCase()) && (
                  <span class="badge badge-accent" title="This recipient is not in the To or Cc headers">
                    Bcc
                  </span>
                )}
              </li>
            ))}
          </ul>
        </dd>
        <dt>Client</dt>
        <dd class="mono">{client || '—'}</dd>
        <dt>HELO / EHLO</dt>
        <dd class="mono">{e.Helo ? <SafeText text={e.Helo} /> : '—'}</dd>
        <dt>TLS</dt>
        <dd>
          {e.TLS ? (
            <span class="mono">
              <span class="badge badge-ok">{e.TLS.Protocol}</span> {e.TLS.Cipher}
            </span>
          ) : (
            <span class="badge">none (clear text)</span>
          )}
        </dd>
        <dt>Authenticated as</dt>
        <dd class="mono">
          {e.AuthUser ? <SafeText text={e.AuthUser} /> : <span class="muted">not authenticated</span>}
        </dd>
        <dt>Listener</dt>
        <dd class="mono">{e.Listener}</dd>
        <dt>Received at</dt>
        <dd>
          {formatFullTime(e.ReceivedAt)} <span class="muted mono">{e.ReceivedAt}</span>
        </dd>
        {e.SessionID && (
          <>
            <dt>Session id</dt>
            <dd class="mono">{e.SessionID}</dd>
          </>
        )}
        <dt>Message-ID</dt>
        <dd class="mono">{msg.MessageID ? <SafeText text={msg.MessageID} /> : '—'}</dd>
        {msg.ReturnPath && (
          <>
            <dt>Return-Path</dt>
            <dd class="mono">
              <SafeText text={msg.ReturnPath} />
            </dd>
          </>
        )}
        {(msg.Bcc ?? []).length > 0 && (
          <>
            <dt>Bcc header</dt>
            <dd>{(msg.Bcc ?? []).map((a) => addressFull(a)).join(', ')}</dd>
          </>
        )}
      </dl>
      {(e.Listener === 'api' || e.Listener === 'submission') && <DeliverySection id={msg.ID} />}
    </div>
  );
}
