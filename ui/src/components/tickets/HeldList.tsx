// Messages a desk held back instead of threading them (a stranger writing to a ticket address, a
// reply without a verifiable anchor, automatic mail over the caps), each with its reason and the
// agent's choices: attach it to a ticket, open a ticket from it, or dismiss it.
import { useState } from 'preact/hooks';
import * as api from '../../api.ts';
import { formatFullTime, formatListTime } from '../../format.ts';
import type { HeldMessage, Ticket } from '../../types.ts';
import { SafeText } from '../SafeText.tsx';
import { toast } from '../Toasts.tsx';

interface Props {
  held: HeldMessage[] | null;
  onResolved(ticket: Ticket | null): void;
}

export function HeldList({ held, onResolved }: Props) {
  if (held === null) return <div class="tk-rows" aria-busy="true" />;
  if (held.length === 0) {
    return (
      <div class="tk-rows">
        <div class="tk-empty-list">
          <p class="empty-title">Nothing held</p>
          <p class="empty-sub">Mail a desk cannot place on a ticket safely waits here for a decision.</p>
        </div>
      </div>
    );
  }
  return (
    <ul class="tk-rows tk-held-list" aria-label="Held messages">
      {held.map((h) => (
        <HeldCard key={`${h.Desk}:${h.MessageID}`} h={h} onResolved={onResolved} />
      ))}
    </ul>
  );
}

function HeldCard({ h, onResolved }: { h: HeldMessage; onResolved(t: Ticket | null): void }) {
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (action: 'attach' | 'open' | 'dismiss') => {
    setBusy(true);
    try {
      const body: { Desk: string; Ticket?: string } = { Desk: h.Desk };
      if (action === 'attach' && target.trim()) body.Ticket = target.trim();
      const r = await api.resolveHeld(h.MessageID, action, body);
      toast(`Held message ${r.Resolution}`);
      onResolved(r.Ticket);
    } catch (err) {
      toast(`Could not ${action} the message: ${err instanceof Error ? err.message : String(err)}`, 'error');
    } finally {
      setBusy(false);
    }
  };
  const canAttach = !!target.trim() || !!h.TicketID;
  return (
    <li class="tk-held" data-message={h.MessageID}>
      <div class="tk-row-top">
        <span class="badge badge-warn tk-held-badge">Held</span>
        <span class="tk-held-from">
          <SafeText text={h.From || '(no sender)'} max={120} />
        </span>
        <time class="tk-time" dateTime={h.At} title={formatFullTime(h.At)}>
          {formatListTime(h.At)}
        </time>
      </div>
      <div class="tk-subject">
        <SafeText text={h.Subject || '(no subject)'} max={200} />
      </div>
      <p class="tk-held-reason">
        <SafeText text={h.Reason} max={500} />
      </p>
      <div class="tk-held-actions">
        <input
          class="input input-small tk-held-target"
          aria-label="Ticket to attach to"
          placeholder={h.TicketID ? 'The ticket it named' : 'Ticket key'}
          value={target}
          maxLength={40}
          onInput={(e) => setTarget((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && canAttach) {
              e.preventDefault();
              void run('attach');
            }
          }}
        />
        <button
          type="button"
          class="btn btn-small"
          disabled={busy || !canAttach}
          onClick={() => void run('attach')}
        >
          Attach
        </button>
        <button
          type="button"
          class="btn btn-small btn-primary"
          disabled={busy}
          onClick={() => void run('open')}
        >
          Open as ticket
        </button>
        <button
          type="button"
          class="btn btn-small btn-ghost"
          disabled={busy}
          onClick={() => void run('dismiss')}
        >
          Dismiss
        </button>
      </div>
    </li>
  );
}
