// Mailboxes (all, unread, with attachments), the tags in use, and the live-connection state.
import type { ComponentChildren } from 'preact';
import { formatCount } from '../format.ts';
import type { LiveStatus } from '../live.ts';
import type { InboxList } from '../types.ts';
import { IconInbox, IconPaperclip, IconTag, IconTicket, IconUnread } from './Icons.tsx';
import { SafeText } from './SafeText.tsx';

interface Props {
  query: string;
  total: number;
  unread: number;
  tags: string[];
  /** The inboxes this user may see (null until known, or from a server without inboxes). */
  inboxes: InboxList | null;
  live: LiveStatus;
  version: string;
  /** The tickets screen is showing (no mailbox is then current). */
  tickets: boolean;
  onQuery(q: string): void;
  onTickets(): void;
}

/** The query an inbox link runs. */
export function inboxQuery(name: string): string {
  return `inbox:${name}`;
}

/** The query a tag link runs (quoted when the name has spaces). */
export function tagQuery(tag: string): string {
  return /[\s"]/.test(tag) ? `tag:"${tag.replace(/"/g, '')}"` : `tag:${tag}`;
}

export function Sidebar(p: Props) {
  const current = (q: string) => !p.tickets && p.query === q;
  const item = (q: string, label: string, icon: ComponentChildren, count?: number) => (
    <li>
      <button
        type="button"
        class={`nav-item ${current(q) ? 'active' : ''}`}
        aria-current={current(q) ? 'page' : undefined}
        onClick={() => p.onQuery(q)}
      >
        {icon}
        <span class="nav-label">{label}</span>
        {count !== undefined && count > 0 && <span class="nav-count">{formatCount(count)}</span>}
      </button>
    </li>
  );
  // Credentials limited to one inbox see it as their whole mailbox, under its name; the desk
  // concerns every inbox, so it is not theirs.
  const scoped = p.inboxes?.Scoped ? (p.inboxes.Inboxes[0]?.Name ?? null) : null;
  const several = !scoped && (p.inboxes?.Inboxes.length ?? 0) > 1 ? p.inboxes!.Inboxes : null;
  return (
    <nav class="sidebar" aria-label="Mailboxes">
      <ul class="nav-list">
        {item('', scoped ? `Inbox ${scoped}` : several ? 'All inboxes' : 'Inbox', <IconInbox />, p.total)}
        {item('is:unread', 'Unread', <IconUnread />, p.unread)}
        {item('has:attachment', 'Attachments', <IconPaperclip />)}
      </ul>
      {several && (
        <>
          <h2 class="nav-heading">Inboxes</h2>
          <ul class="nav-list inboxes-list">
            {several.map((i) => {
              const q = inboxQuery(i.Name);
              const who = [...i.Users, ...i.Recipients].join(', ');
              return (
                <li key={i.Name}>
                  <button
                    type="button"
                    class={`nav-item ${current(q) ? 'active' : ''}`}
                    aria-current={current(q) ? 'page' : undefined}
                    title={who ? `${i.Name}: ${who}` : `${i.Name}: mail no other inbox takes`}
                    onClick={() => p.onQuery(q)}
                  >
                    <IconInbox size={16} />
                    <span class="nav-label">
                      <SafeText text={i.Name} max={40} />
                    </span>
                    {i.Unread > 0 && <span class="nav-count">{formatCount(i.Unread)}</span>}
                  </button>
                </li>
              );
            })}
          </ul>
        </>
      )}
      {!scoped && <h2 class="nav-heading">Support</h2>}
      {!scoped && (
        <ul class="nav-list">
          <li>
            <button
              type="button"
              class={`nav-item ${p.tickets ? 'active' : ''}`}
              aria-current={p.tickets ? 'page' : undefined}
              onClick={p.onTickets}
            >
              <IconTicket />
              <span class="nav-label">Tickets</span>
            </button>
          </li>
        </ul>
      )}
      {p.tags.length > 0 && (
        <>
          <h2 class="nav-heading">Tags</h2>
          <ul class="nav-list tags-list">
            {p.tags.map((t) => {
              const q = tagQuery(t);
              return (
                <li key={t}>
                  <button
                    type="button"
                    class={`nav-item ${current(q) ? 'active' : ''}`}
                    aria-current={current(q) ? 'page' : undefined}
                    onClick={() => p.onQuery(q)}
                  >
                    <IconTag size={16} />
                    <span class="nav-label">
                      <SafeText text={t} max={60} />
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </>
      )}
      <div class="sidebar-foot">
        <span class={`live live-${p.live}`} role="status" title="Live updates">
          <span class="live-dot" aria-hidden="true" />
          {p.live === 'live' ? 'Live' : p.live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
        {p.version && <span class="muted version">v{p.version}</span>}
      </div>
    </nav>
  );
}
