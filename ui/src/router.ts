// Client-side routes on the History API: "/" is the inbox, "/m/{ID}" a message, "?q=" a search on
// either, "/tickets" the support desk's tickets and "/tickets/{KEY}" one of them. The server
// answers all these paths with index.html.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Which screen: the mailbox, or the desk's tickets. */
  view: 'mail' | 'tickets';
  /** The open message, or null for the list alone. */
  id: string | null;
  /** The search; '' lists the whole mailbox. */
  query: string;
  /** The open ticket (its key or ID) on the tickets screen. */
  ticket: string | null;
}

const ROUTE_EVENT = 'mailroom:route';

function decoded(s: string | undefined): string | null {
  if (!s) return null;
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

export function parseRoute(loc: { pathname: string; search: string } = location): Route {
  const t = /^\/tickets(?:\/([^/]*))?\/?$/.exec(loc.pathname);
  if (t) return { view: 'tickets', id: null, query: '', ticket: decoded(t[1]) };
  const m = /^\/m\/([^/]+)\/?$/.exec(loc.pathname);
  return {
    view: 'mail',
    id: decoded(m?.[1]),
    query: new URLSearchParams(loc.search).get('q') ?? '',
    ticket: null,
  };
}

export function routeUrl(r: Route): string {
  if (r.view === 'tickets') return r.ticket ? `/tickets/${encodeURIComponent(r.ticket)}` : '/tickets';
  const path = r.id ? `/m/${encodeURIComponent(r.id)}` : '/';
  return r.query ? `${path}?q=${encodeURIComponent(r.query)}` : path;
}

/** Goes to a route; `replace` rewrites the current history entry instead of adding one. */
export function navigate(r: Route, replace = false): void {
  const url = routeUrl(r);
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(ROUTE_EVENT));
}

/** The current route, re-rendering on navigation and on back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const update = () =>
      setRoute((old) => {
        const next = parseRoute();
        return next.view === old.view &&
          next.id === old.id &&
          next.query === old.query &&
          next.ticket === old.ticket
          ? old
          : next;
      });
    window.addEventListener('popstate', update);
    window.addEventListener(ROUTE_EVENT, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(ROUTE_EVENT, update);
    };
  }, []);
  return route;
}
