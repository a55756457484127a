// One ticket: a header with its key, subject and requester and the agent's controls (state,
// assignee, tags), the conversation oldest first (each entry styled by its kind), and the reply
// box. Everything from mail is rendered as text; an entry's HTML only in a sandboxed iframe.
import { useEffect, useRef, useState } from 'preact/hooks';
import * as api from '../../api.ts';
import {
  addressFull,
  addressLabel,
  downloadName,
  formatFullTime,
  formatSize,
  hueOf,
  initials,
} from '../../format.ts';
import type { EntryKind, TicketEntry, TicketState, TicketWithEntries } from '../../types.ts';
import { TICKET_STATES } from '../../types.ts';
import { IconBack, IconDownload, IconPaperclip } from '../Icons.tsx';
import { SafeText } from '../SafeText.tsx';
import { TagEditor } from '../TagEditor.tsx';
import { toast } from '../Toasts.tsx';
import { SANDBOX } from '../tabs/HtmlTab.tsx';
import { ReplyBox } from './ReplyBox.tsx';
import { STATE_LABEL, StateBadge } from './TicketList.tsx';

const KIND_LABEL: Record<EntryKind, string> = {
  customer: 'Customer',
  agent: 'Agent reply',
  note: 'Internal note',
  automatic: 'Automatic',
  bounce: 'Bounce',
  acknowledgement: 'Acknowledgement',
};

interface Props {
  id: string;
  /** Bumped when live events say the ticket may have changed. */
  revision: number;
  allTags: string[];
  onClose(): void;
  onChanged(): void;
  onTagClick(tag: string): void;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function TicketView(p: Props) {
  const [ticket, setTicket] = useState<TicketWithEntries | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const convo = useRef<HTMLDivElement | null>(null);
  const lastCount = useRef(0);

  useEffect(() => {
    const ctrl = new AbortController();
    api.getTicket(p.id, ctrl.signal).then(
      (t) => {
        setTicket(t);
        setError(null);
      },
      (err: Error) => {
        if (err.name !== 'AbortError') setError(err.message);
      },
    );
    return () => ctrl.abort();
  }, [p.id, p.revision, reload]);

  // Scroll to the newest entry when the ticket opens and whenever one is added.
  useEffect(() => {
    const n = ticket?.Conversation.length ?? 0;
    if (n && n !== lastCount.current) {
      const el = convo.current;
      if (el) el.scrollTop = el.scrollHeight;
    }
    lastCount.current = n;
  }, [ticket]);

  const changed = () => {
    setReload((r) => r + 1);
    p.onChanged();
  };

  const patch = async (body: api.TicketPatchBody, what: string) => {
    if (!ticket) return;
    try {
      const t = await api.patchTicket(ticket.ID, body);
      setTicket((cur) => (cur ? { ...cur, ...t } : cur));
      changed();
    } catch (err) {
      toast(`Could not change ${what}: ${errorText(err)}`, 'error');
    }
  };

  if (error && !ticket) {
    return (
      <div class="placeholder-pane">
        <p class="empty-title">Cannot show this ticket</p>
        <p class="empty-sub">{error}</p>
      </div>
    );
  }
  if (!ticket) {
    return (
      <div class="tk-view" aria-busy="true">
        <div class="msg-head">
          <div class="sk sk-a" />
          <div class="sk sk-b" />
        </div>
      </div>
    );
  }

  return (
    <article class="tk-view" aria-label={`Ticket ${ticket.Key}`} data-testid="ticket-view">
      <header class="tk-head">
        <div class="tk-head-top">
          <button
            type="button"
            class="icon-btn tk-back"
            onClick={p.onClose}
            title="Back to the tickets (Esc)"
          >
            <IconBack />
          </button>
          <span class="tk-head-key">{ticket.Key}</span>
          <StateBadge state={ticket.State} />
          <span class="tk-head-when muted">
            Opened {formatFullTime(ticket.CreatedAt)} · {ticket.Entries}{' '}
            {ticket.Entries === 1 ? 'entry' : 'entries'}
          </span>
        </div>
        <h1 class="msg-subject tk-title">
          <SafeText text={ticket.Subject || '(no subject)'} max={998} />
        </h1>
        <p class="tk-requester-line">
          <span class="muted">Requester</span>{' '}
          <strong>
            <SafeText text={addressLabel(ticket.Requester)} max={120} />
          </strong>{' '}
          {ticket.Requester.Name.trim() && (
            <span class="addr-email">
              <SafeText text={`<${ticket.Requester.Address}>`} max={330} />
            </span>
          )}
          <span class="muted tk-address">
            {' '}
            · replies go to <SafeText text={ticket.Address} max={330} />
          </span>
        </p>
        <div class="tk-controls">
          <label class="tk-field">
            <span>State</span>
            <select
              class="input input-select"
              data-testid="ticket-state"
              value={ticket.State}
              onChange={(e) =>
                void patch(
                  { State: (e.currentTarget as HTMLSelectElement).value as TicketState },
                  'the state',
                )
              }
            >
              {TICKET_STATES.map((s) => (
                <option key={s} value={s}>
                  {STATE_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
          <AssigneeField
            key={`${ticket.ID}:${ticket.Assignee ?? ''}`}
            value={ticket.Assignee}
            onCommit={(a) => void patch({ Assignee: a }, 'the assignee')}
          />
          <TagEditor
            tags={ticket.Tags}
            all={p.allTags}
            onChange={(tags) => void patch({ Tags: tags }, 'the tags')}
            onTagClick={p.onTagClick}
          />
        </div>
      </header>
      <div class="tk-conversation" ref={convo} data-testid="conversation">
        {ticket.Conversation.map((e) => (
          <Entry key={e.ID} ticketId={ticket.ID} entry={e} />
        ))}
      </div>
      <ReplyBox
        key={ticket.ID}
        ticket={ticket}
        onSent={(t) => {
          setTicket((cur) => (cur ? { ...cur, ...t } : cur));
          changed();
        }}
      />
    </article>
  );
}

function AssigneeField({ value, onCommit }: { value: string | null; onCommit(v: string | null): void }) {
  const [text, setText] = useState(value ?? '');
  const commit = () => {
    const v = text.trim();
    if (v === (value ?? '')) return;
    onCommit(v ? v : null);
  };
  return (
    <label class="tk-field">
      <span>Assignee</span>
      <input
        class="input tk-assignee-input"
        data-testid="ticket-assignee"
        placeholder="Unassigned"
        value={text}
        maxLength={200}
        onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            commit();
          } else if (e.key === 'Escape') {
            e.stopPropagation();
            setText(value ?? '');
            (e.currentTarget as HTMLInputElement).blur();
          }
        }}
        onBlur={commit}
      />
    </label>
  );
}

function Entry({ ticketId, entry: e }: { ticketId: string; entry: TicketEntry }) {
  const [full, setFull] = useState(false);
  const [html, setHtml] = useState(false);
  const stripped = e.StrippedText.trim() ? e.StrippedText : e.Text;
  const hasMore = e.Text.trim() !== stripped.trim();
  const who =
    e.Kind === 'agent' || e.Kind === 'note'
      ? e.Author || (e.Kind === 'note' ? 'Agent' : addressLabel(e.From) || 'Agent')
      : addressLabel(e.From) || e.From.Address || 'Unknown sender';
  const quiet = e.Kind === 'automatic' || e.Kind === 'bounce' || e.Kind === 'acknowledgement';
  const files = e.Attachments.filter((a) => !a.Inline || !e.HasHTML);
  return (
    <section class={`tk-entry kind-${e.Kind} ${quiet ? 'quiet' : ''}`} data-kind={e.Kind} data-entry={e.ID}>
      <header class="tk-entry-head">
        <span
          class="avatar tk-avatar"
          style={{ '--hue': String(hueOf(e.From.Address || who)) }}
          aria-hidden="true"
        >
          {initials(e.Kind === 'note' ? { Name: who, Address: '' } : e.From)}
        </span>
        <span class="tk-entry-who" title={e.From.Address ? addressFull(e.From) : undefined}>
          <SafeText text={who} max={120} />
        </span>
        <span class={`tk-kind kind-label-${e.Kind}`}>{KIND_LABEL[e.Kind]}</span>
        <time class="tk-entry-time" dateTime={e.At}>
          {formatFullTime(e.At)}
        </time>
      </header>
      {e.Note && (
        <p class="tk-entry-note">
          <SafeText text={e.Note} max={500} />
        </p>
      )}
      {html ? (
        <iframe
          class="tk-html-frame"
          title={`HTML of ${KIND_LABEL[e.Kind].toLowerCase()} from ${who}`}
          sandbox={SANDBOX}
          src={api.ticketUrls.view(ticketId, e.ID)}
          referrerpolicy="no-referrer"
        />
      ) : (
        <div class="tk-entry-text">{full ? e.Text : stripped}</div>
      )}
      {(hasMore || e.HasHTML) && (
        <div class="tk-entry-toggles">
          {hasMore && !html && (
            <button type="button" class="link-btn" onClick={() => setFull((f) => !f)}>
              {full ? 'Hide quoted text' : 'Show full message'}
            </button>
          )}
          {e.HasHTML && (
            <button type="button" class="link-btn" onClick={() => setHtml((h) => !h)}>
              {html ? 'Show text' : 'Show HTML'}
            </button>
          )}
        </div>
      )}
      {files.length > 0 && (
        <ul class="tk-files">
          {files.map((a) => (
            <li key={a.PartID}>
              <a
                class="tk-file"
                href={api.ticketUrls.part(ticketId, e.ID, a.PartID)}
                download={downloadName(a.FileName, `part-${a.PartID}`)}
              >
                <IconPaperclip size={14} />
                <SafeText text={a.FileName || `part-${a.PartID}`} max={80} />
                <span class="muted">{formatSize(a.Size)}</span>
                <IconDownload size={14} />
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
