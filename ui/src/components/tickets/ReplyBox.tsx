// The box under a conversation: a reply mailed to the requester (optionally setting the ticket's
// state after it, e.g. pending while the customer answers) or an internal note that is never
// mailed. Ctrl/Cmd+Enter sends; a failure keeps the text and shows the server's reason.
import { useRef, useState } from 'preact/hooks';
import * as api from '../../api.ts';
import type { Ticket, TicketState } from '../../types.ts';
import { toast } from '../Toasts.tsx';

type Mode = 'reply' | 'note';
type After = '' | TicketState;

interface Props {
  ticket: Ticket;
  onSent(t: Ticket): void;
}

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export function ReplyBox({ ticket, onSent }: Props) {
  const [mode, setMode] = useState<Mode>('reply');
  const [text, setText] = useState('');
  const [after, setAfter] = useState<After>('');
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement | null>(null);

  const send = async () => {
    if (busy || !text.trim()) return;
    setBusy(true);
    try {
      const r =
        mode === 'reply'
          ? await api.replyTicket(ticket.ID, text, after || undefined)
          : await api.noteTicket(ticket.ID, text);
      setText('');
      toast(mode === 'reply' ? `Reply to ${ticket.Key} queued` : 'Note added');
      onSent(r.Ticket);
    } catch (err) {
      toast(
        `Could not ${mode === 'reply' ? 'send the reply' : 'add the note'}: ${err instanceof Error ? err.message : String(err)}`,
        'error',
      );
    } finally {
      setBusy(false);
    }
  };

  const switchTo = (m: Mode) => {
    setMode(m);
    area.current?.focus();
  };

  return (
    <form
      class={`tk-reply mode-${mode}`}
      data-testid="reply-box"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <div class="tk-reply-tabs" role="tablist" aria-label="Reply or note">
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'reply'}
          class={`tk-reply-tab ${mode === 'reply' ? 'active' : ''}`}
          onClick={() => switchTo('reply')}
        >
          Reply
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={mode === 'note'}
          class={`tk-reply-tab ${mode === 'note' ? 'active' : ''}`}
          onClick={() => switchTo('note')}
        >
          Internal note
        </button>
        <span class="tk-reply-to muted">
          {mode === 'reply' ? (
            <>
              To <bdi>{ticket.Requester.Address}</bdi>
            </>
          ) : (
            'Only agents see notes: they are never mailed'
          )}
        </span>
      </div>
      <textarea
        ref={area}
        class="tk-reply-text"
        aria-label={mode === 'reply' ? 'Reply to the customer' : 'Internal note'}
        placeholder={
          mode === 'reply' ? `Write a reply to ${ticket.Requester.Address}…` : 'Write a note for the team…'
        }
        value={text}
        rows={4}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <div class="tk-reply-actions">
        <span class="muted tk-reply-hint">
          <kbd>{isMac ? '⌘' : 'Ctrl'}</kbd>+<kbd>Enter</kbd> to {mode === 'reply' ? 'send' : 'add'}
        </span>
        {mode === 'reply' && (
          <label class="tk-after">
            <span class="muted">Then</span>
            <select
              class="input input-select"
              data-testid="reply-after"
              value={after}
              onChange={(e) => setAfter((e.currentTarget as HTMLSelectElement).value as After)}
            >
              <option value="">keep it {ticket.State}</option>
              {(['pending', 'solved', 'open'] as const)
                .filter((s) => s !== ticket.State)
                .map((s) => (
                  <option key={s} value={s}>
                    set {s}
                  </option>
                ))}
            </select>
          </label>
        )}
        <button type="submit" class="btn btn-primary" disabled={busy || !text.trim()}>
          {mode === 'reply' ? (after ? `Send and set ${after}` : 'Send reply') : 'Add note'}
        </button>
      </div>
    </form>
  );
}
