// Client-side routes on the History API: "/" is the inbox, "/m/{ID}" a message, and "?q=" a
// search on either. The server answers both paths with index.html.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The open message, or null for the list alone. */
  id: string | null;
  /** The search; '' lists the whole mailbox. */
  query: string;
}

const ROUTE_EVENT = 'mailroom:route';

export function parseRoute(loc: { pathname: string; search: string } = location): Route {
  const m = /^\/m\/([^/]+)\/?$/.exec(loc.pathname);
  let id: string | null = null;
  if (m?.[1]) {
    try {
      id = decodeURIComponent(m[1]);
    } catch {
      id = null;
    }
  }
  return { id, query: new URLSearchParams(loc.search).get('q') ?? '' };
}

export function routeUrl(r: Route): string {
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
        return next.id === old.id && next.query === old.query ? old : next;
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
