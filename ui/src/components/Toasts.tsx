// Short notices at the bottom of the screen (errors, undo-less confirmations), announced politely
// to screen readers.
import { useEffect, useState } from 'preact/hooks';

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

type Listener = (t: Toast[]) => void;
let toasts: Toast[] = [];
let nextId = 1;
const listeners = new Set<Listener>();

function publish(): void {
  for (const l of listeners) l(toasts);
}

/** Shows a notice for a few seconds (errors a little longer). */
export function toast(text: string, kind: Toast['kind'] = 'info'): void {
  const t = { id: nextId++, text, kind };
  // The same notice again replaces the one on screen instead of stacking.
  toasts = [...toasts.filter((x) => x.text !== text).slice(-3), t];
  publish();
  setTimeout(
    () => {
      toasts = toasts.filter((x) => x !== t);
      publish();
    },
    kind === 'error' ? 7000 : 3500,
  );
}

export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    listeners.add(setList);
    return () => {
      listeners.delete(setList);
    };
  }, []);
  return (
    <div class="toasts" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'}>
          {t.text}
        </div>
      ))}
    </div>
  );
}
