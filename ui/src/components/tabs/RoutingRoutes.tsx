// The routes part of the Routing tab: the routes that matched a message (why, for which
// recipient, what their regular expressions captured), those that timed out or were skipped, and,
// on request, a dry run of today's routes that says why each other route does not match.
import { useState } from 'preact/hooks';
import { testRoutes } from '../../api.ts';
import type { RouteTestResult, RoutingEvent } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';
import { toast } from '../Toasts.tsx';
import { Loading } from './status.tsx';

/** Route names by ID (from GET /api/v1/routes; empty when it could not be read). */
export type Names = ReadonlyMap<string, string>;

/** A string or number field of an event's data, else ''. */
export function text(data: Record<string, unknown>, key: string): string {
  const v = data[key];
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

export function RouteName({ id, names }: { id: string; names: Names }) {
  const name = names.get(id);
  return (
    <span class="route-name">
      {name && name !== id && <strong>{name}</strong>}
      <span class="mono muted">{id}</span>
    </span>
  );
}

export function Routes({ id, events, names }: { id: string; events: RoutingEvent[]; names: Names }) {
  const shown = events.filter((e) => e.Type.startsWith('route:'));
  const matched = new Set(shown.filter((e) => e.Type === 'route:matched').map((e) => e.RouteID ?? ''));
  return (
    <>
      {!matched.size && (
        <p class="muted" data-testid="no-route">
          No route matched this message.
        </p>
      )}
      {shown.length > 0 && (
        <ul class="route-list">
          {shown.map((e) => (
            <RouteEvent key={e.ID} e={e} names={names} />
          ))}
        </ul>
      )}
      <OtherRoutes key={id} id={id} matched={matched} names={names} />
    </>
  );
}

function RouteEvent({ e, names }: { e: RoutingEvent; names: Names }) {
  const [label, cls] =
    e.Type === 'route:matched'
      ? ['matched', 'badge-ok']
      : e.Type === 'route:timed-out'
        ? ['timed out', 'badge-warn']
        : ['skipped', ''];
  const captures = Object.entries((e.Data.captures ?? {}) as Record<string, string>);
  const recipient = text(e.Data, 'recipient');
  return (
    <li class="route-item" data-route={e.RouteID ?? ''}>
      <div class="route-line">
        <span class={`badge ${cls}`}>{label}</span>
        {e.RouteID ? <RouteName id={e.RouteID} names={names} /> : <strong>No route evaluated</strong>}
      </div>
      <div class="muted">
        <SafeText text={text(e.Data, 'reason')} max={500} />
        {recipient && (
          <>
            {' · for '}
            <SafeText class="mono" text={recipient} max={320} />
          </>
        )}
      </div>
      {captures.length > 0 && (
        <div class="captures">
          {captures.map(([k, v]) => (
            <span key={k} class="capture mono">
              {k} = <SafeText text={String(v)} max={200} />
            </span>
          ))}
        </div>
      )}
    </li>
  );
}

/** On request, a dry run of today's routes: the reason each route that did not match gives. */
function OtherRoutes({ id, matched, names }: { id: string; matched: Set<string>; names: Names }) {
  const [run, setRun] = useState<RouteTestResult | 'loading' | null>(null);
  const check = async () => {
    setRun('loading');
    try {
      setRun(await testRoutes(id));
    } catch (err) {
      setRun(null);
      toast(`Could not test the routes: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  };
  if (run === 'loading') return <Loading label="Testing the routes…" />;
  if (run === null) {
    return (
      <button type="button" class="link-btn route-why" onClick={check}>
        Why did the other routes not match?
      </button>
    );
  }
  const others = run.Routes.filter((r) => !matched.has(r.ID));
  return (
    <div class="route-others" data-testid="other-routes">
      <p class="muted">
        The routes in force now, tried on this message (they may have changed since it came):
      </p>
      {others.length === 0 && <p class="muted">There are no other routes.</p>}
      <ul class="route-list">
        {others.map((r) => (
          <li key={r.ID} class="route-item" data-route={r.ID}>
            <div class="route-line">
              <span class={`badge ${r.Matched ? 'badge-accent' : ''}`}>
                {r.Matched ? 'would match' : 'no match'}
              </span>
              <RouteName id={r.ID} names={new Map([...names, [r.ID, r.Name]])} />
            </div>
            <div class="muted">
              <SafeText text={r.Reason} max={500} />
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
