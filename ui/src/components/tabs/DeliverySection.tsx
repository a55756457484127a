// For a message Mailroom sent (through the send API or SMTP submission): each delivery with its
// recipients' replies, and every event it went through, from GET /api/v1/outbound/{ID}.
import { getOutbound } from '../../api.ts';
import { formatFullTime } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import { SafeText } from '../SafeText.tsx';
import { ErrorNote, Loading } from './status.tsx';

const STATE_BADGE: Record<string, string> = {
  delivered: 'badge-ok',
  bounced: 'badge-danger',
  expired: 'badge-danger',
  deferred: 'badge-warn',
};

/** One line on what an event learnt: who and what a report said, which link was clicked. */
function eventDetail(data: Record<string, unknown>): string {
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : '');
  if (data.via === 'dsn') return [text('recipient'), text('reply')].filter(Boolean).join(': ');
  if (data.via === 'arf') {
    const who = Array.isArray(data.recipients) ? data.recipients.join(', ') : '';
    return [`${text('feedbackType')} report`, text('userAgent'), who].filter(Boolean).join(' · ');
  }
  return text('url') || text('userAgent');
}

export function DeliverySection({ id }: { id: string }) {
  const res = useAsync((signal) => getOutbound(id, signal), [id]);
  if (res.state === 'loading') return <Loading label="Loading the delivery record…" />;
  // Not every captured message was sent through the queue (a 404 says so): nothing to show.
  if (res.state === 'error') return res.error.status === 404 ? null : <ErrorNote error={res.error} />;
  const o = res.value;
  const domainOf = new Map(o.Deliveries.map((d) => [d.ID, d.Domain]));
  return (
    <section class="delivery" data-testid="delivery">
      <h3>Delivery</h3>
      <table class="kv-table">
        <thead>
          <tr>
            <th>Domain</th>
            <th>State</th>
            <th>Attempts</th>
            <th>Recipients and replies</th>
          </tr>
        </thead>
        <tbody>
          {o.Deliveries.map((d) => (
            <tr key={d.ID}>
              <td class="mono">{d.Domain}</td>
              <td>
                <span class={`badge ${STATE_BADGE[d.State] ?? ''}`}>{d.State}</span>
              </td>
              <td>{d.Attempts}</td>
              <td>
                <ul class="rcpt">
                  {d.Recipients.map((r) => (
                    <li key={r.Address} class="mono">
                      <SafeText text={r.Address} /> <span class="muted">{r.State}</span>
                      {r.Reply && (
                        <div class="muted">
                          <SafeText text={r.Reply} />
                        </div>
                      )}
                    </li>
                  ))}
                </ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Events</h3>
      <ol class="events">
        {o.Events.map((e) => (
          <li key={e.ID}>
            <span class="mono">{e.Type}</span>
            {e.DeliveryID && <span class="muted"> {domainOf.get(e.DeliveryID)}</span>}{' '}
            <span class="muted" title={e.At}>
              {formatFullTime(e.At)}
            </span>
            {eventDetail(e.Data) && (
              <div class="muted">
                <SafeText text={eventDetail(e.Data)} />
              </div>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
