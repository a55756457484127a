// Small shared hooks.
import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';

interface Observable {
  subscribe(fn: () => void): () => void;
}

/**
 * Re-renders when `source` changes, at most once per animation frame, so a burst of a thousand
 * live events costs one render.
 */
export function useObservable(source: Observable): void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    let frame = 0;
    const unsub = source.subscribe(() => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        bump(0);
      });
    });
    return () => {
      unsub();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [source]);
}

export type Async<T> =
  | { state: 'loading' }
  | { state: 'ok'; value: T }
  | { state: 'error'; error: Error & { status?: number } };

/** Runs `load` when `deps` change (aborting the previous run) and tracks its outcome. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const loadRef = useRef(load);
  loadRef.current = load;
  // The caller's deps decide when to reload.
  useEffect(() => {
    const ctrl = new AbortController();
    setResult({ state: 'loading' });
    loadRef.current(ctrl.signal).then(
      (value) => {
        if (!ctrl.signal.aborted) setResult({ state: 'ok', value });
      },
      (error: Error) => {
        if (!ctrl.signal.aborted && error.name !== 'AbortError') setResult({ state: 'error', error });
      },
    );
    return () => ctrl.abort();
  }, deps);
  return result;
}

/** True when keyboard focus is in a text field, where single-key shortcuts must not fire. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (target as HTMLInputElement).type;
  return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
}

/** Whether a media query matches, following changes. */
export function useMedia(query: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const mq = matchMedia(query);
    const on = () => setMatches(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return matches;
}

/**
 * A stable function that runs `fn` once calls have stopped for `ms` (a trailing debounce). `fn`
 * is read when it fires, so it may close over the latest render.
 */
export function useDebounced(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  return useMemo(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(() => latest.current(), ms);
    };
  }, [ms]);
}
