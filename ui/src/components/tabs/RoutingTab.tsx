// How a received message was checked and routed: the sender checks, the routes that matched (and,
// on request, why the others do not), each action with its state and a replay, and the history,
// from GET /api/v1/message/{ID}/routing. Nothing is fetched until the tab is opened; while an
// action is still to run, or fresh mail may not be routed yet, the record is read again.
import { useEffect, useState } from 'preact/hooks';
import { getRouting, listRoutes, replayAction } from '../../api.ts';
import { formatFullTime } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import type { ActionJob, Message, MessageRouting, RoutingEvent } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';
import { toast } from '../Toasts.tsx';
import { type Names, RouteName, Routes, text } from './RoutingRoutes.tsx';
import { listenerLabel, SenderChecks } from './SenderChecks.tsx';
import { ErrorNote, Loading } from './status.tsx';

/** The doors whose mail the server routes (the MX listeners and the pollers). */
const ROUTED = new Set(['smtp', 'smtps', 'imap', 'pop3']);
/** Routing runs shortly after a message is parsed; an empty record younger than this may fill in. */
const SETTLE_MS = 60_000;

const STATE_BADGE: Record<ActionJob['State'], string> = {
  pending: 'badge-warn',
  running: 'badge-accent',
  succeeded: 'badge-ok',
  failed: 'badge-danger',
};

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "in 25 s", "in 4 min": when a retry is due. */
function dueIn(iso: string, now = Date.now()): string {
  const s = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(s)) return iso;
  if (s <= 0) return 'now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'always', style: 'short' });
  if (s < 90) return rtf.format(s, 'second');
  if (s < 5400) return rtf.format(Math.round(s / 60), 'minute');
  return rtf.format(Math.round(s / 3600), 'hour');
}

/** When to read the record again (ms), or null when nothing can change on its own. */
function refreshDelay(r: MessageRouting, receivedAt: string | undefined, now = Date.now()): number | null {
  const delays = r.Actions.flatMap((a) => {
    if (a.State === 'running') return [2000];
    if (a.State !== 'pending') return [];
    return [Math.min(30_000, Math.max(2000, Date.parse(a.NextAttemptAt ?? '') - now + 500 || 2000))];
  });
  const young = receivedAt !== undefined && now - Date.parse(receivedAt) < SETTLE_MS;
  if (ROUTED.has(r.Listener) && r.Events.length === 0 && young) delays.push(2000);
  return delays.length ? Math.min(...delays) : null;
}

/** The routing record of `id`, kept on screen while it is read again. */
function useRouting(id: string, receivedAt: string | undefined) {
  const [got, setGot] = useState<{ id: string; value?: MessageRouting; error?: Error } | null>(null);
  const [rev, setRev] = useState(0);
  useEffect(() => {
    const ctrl = new AbortController();
    getRouting(id, ctrl.signal).then(
      (value) => setGot({ id, value }),
      (error: Error) => {
        // A failed re-read keeps what was shown, under the error.
        if (error.name !== 'AbortError')
          setGot((prev) => ({ id, value: prev?.id === id ? prev.value : undefined, error }));
      },
    );
    return () => ctrl.abort();
  }, [id, rev]);
  const current = got?.id === id ? got : null;
  const delay = current?.value ? refreshDelay(current.value, receivedAt) : null;
  useEffect(() => {
    if (delay === null) return;
    const t = setTimeout(() => setRev((r) => r + 1), delay);
    return () => clearTimeout(t);
  }, [current, delay]);
  return { value: current?.value, error: current?.error, refresh: () => setRev((r) => r + 1) };
}

export function RoutingTab({ msg }: { msg: Message }) {
  const { value, error, refresh } = useRouting(msg.ID, msg.Envelope?.ReceivedAt);
  const routes = useAsync((signal) => listRoutes(signal).catch(() => []), []);
  const names: Names = new Map(routes.state === 'ok' ? routes.value.map((r) => [r.ID, r.Name]) : []);
  if (!value) return error ? <ErrorNote error={error} /> : <Loading label="Loading the routing record…" />;
  const routed = ROUTED.has(value.Listener);
  return (
    <div class="pad routing" data-testid="routing">
      {error && <ErrorNote error={error} />}
      <div class="routing-head">
        <span class="routing-door">{listenerLabel(value.Listener)}</span>
        <button type="button" class="btn btn-small" onClick={refresh}>
          Refresh
        </button>
      </div>
      <section class="routing-section" aria-labelledby="routing-auth">
        <h3 class="section-title" id="routing-auth">
          Sender checks
        </h3>
        <SenderChecks auth={value.Authentication} listener={value.Listener} />
      </section>
      <section class="routing-section" aria-labelledby="routing-routes">
        <h3 class="section-title" id="routing-routes">
          Routes
        </h3>
        {routed ? (
          <Routes id={msg.ID} events={value.Events} names={names} />
        ) : (
          <p class="muted" data-testid="not-routed">
            Routing runs for MX and polled mail only.
          </p>
        )}
      </section>
      {value.Actions.length > 0 && (
        <section class="routing-section" aria-labelledby="routing-actions">
          <h3 class="section-title" id="routing-actions">
            Actions
          </h3>
          <Actions actions={value.Actions} events={value.Events} names={names} onChange={refresh} />
        </section>
      )}
      {value.Events.length > 0 && <History events={value.Events} names={names} />}
    </div>
  );
}

function Actions(p: { actions: ActionJob[]; events: RoutingEvent[]; names: Names; onChange(): void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const replay = async (a: ActionJob) => {
    setBusy(a.ID);
    try {
      await replayAction(a.ID);
      toast(`Replaying the ${a.Type} action`);
    } catch (err) {
      toast(`Could not replay the ${a.Type} action: ${errorText(err)}`, 'error');
    } finally {
      setBusy(null);
      p.onChange();
    }
  };
  const disabled = p.events.filter((e) => e.Type === 'webhook:disabled');
  // A column only while some action waits for a retry: it saves room on narrow screens.
  const retrying = p.actions.some((a) => a.NextAttemptAt);
  return (
    <>
      {disabled.map((e) => (
        <div key={e.ID} class="banner banner-warn routing-banner" role="status">
          Webhook <SafeText class="mono" text={text(e.Data, 'url')} max={300} /> was disabled after{' '}
          {text(e.Data, 'failures')} failures in a row; enable it again through the API.
        </div>
      ))}
      <div class="routing-table-wrap">
        <table class="kv-table routing-actions">
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Route</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              {retrying && <th scope="col">Next attempt</th>}
              <th scope="col">Last error</th>
              <th scope="col">
                <span class="sr-only">Replay</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {p.actions.map((a) => (
              <tr key={a.ID} data-action={a.ID} data-state={a.State}>
                <td>{a.Type}</td>
                <td class="routing-route">
                  <RouteName id={a.RouteID} names={p.names} />
                </td>
                <td>
                  <span class={`badge ${STATE_BADGE[a.State] ?? ''}`}>{a.State}</span>
                </td>
                <td>{a.Attempts}</td>
                {retrying && (
                  <td title={a.NextAttemptAt ? formatFullTime(a.NextAttemptAt) : undefined}>
                    {a.NextAttemptAt ? dueIn(a.NextAttemptAt) : '—'}
                  </td>
                )}
                <td class="routing-error">
                  {a.LastError ? <SafeText class="routing-error-text" text={a.LastError} max={1000} /> : '—'}
                </td>
                <td class="routing-replay">
                  {(a.State === 'failed' || a.State === 'succeeded') && (
                    <button
                      type="button"
                      class="btn btn-small"
                      disabled={busy === a.ID}
                      onClick={() => replay(a)}
                      title={`Run this ${a.Type} action again`}
                    >
                      Replay
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** One line on what an event recorded. */
function eventDetail(e: RoutingEvent): string {
  const d = e.Data;
  if (e.Type.startsWith('action:')) {
    const what = `${text(d, 'action')} #${text(d, 'index')}, attempt ${text(d, 'attempt')}`;
    const why = text(d, 'reason') || text(d, 'detail');
    return why ? `${what}: ${why}` : what;
  }
  if (e.Type === 'webhook:disabled') return `${text(d, 'url')}: ${text(d, 'lastError')}`;
  return text(d, 'reason');
}

function History({ events, names }: { events: RoutingEvent[]; names: Names }) {
  const sorted = [...events].sort((a, b) => a.At.localeCompare(b.At));
  return (
    <details class="routing-section routing-history">
      <summary class="section-title">History ({sorted.length})</summary>
      <ol class="events">
        {sorted.map((e) => (
          <li key={e.ID}>
            <span class="mono">{e.Type}</span>
            {e.RouteID && <span class="muted"> {names.get(e.RouteID) ?? e.RouteID}</span>}{' '}
            <span class="muted" title={e.At}>
              {formatFullTime(e.At)}
            </span>
            {eventDetail(e) && (
              <div class="muted">
                <SafeText text={eventDetail(e)} max={1000} />
              </div>
            )}
          </li>
        ))}
      </ol>
    </details>
  );
}
