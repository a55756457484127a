// The support agent's screen: the desk's tickets (or its held messages) on the left, the open
// ticket on the right. Follows the inbox's habits: j/k or the arrows move, Enter opens, / searches,
// Esc goes back. The ticket event feed (SSE) keeps the list and the open ticket current.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import * as api from '../../api.ts';
import { isTyping, useDebounced } from '../../hooks.ts';
import type { Desk, HeldMessage, Ticket, TicketFilter } from '../../types.ts';
import { toast } from '../Toasts.tsx';
import { HeldList } from './HeldList.tsx';
import { TicketFilters, TicketRows } from './TicketList.tsx';
import { TicketView } from './TicketView.tsx';

const TICKET_EVENTS = [
  'ticket:created',
  'ticket:replied',
  'ticket:updated',
  'ticket:status_changed',
  'ticket:held',
] as const;

/** Tickets fetched at first, and added by each "Show more". */
const PAGE = 200;

const ALL: TicketFilter = { states: [], assignee: null, tag: '', query: '' };

interface Props {
  /** The open ticket's key (or ID), from the URL. */
  open: string | null;
  onOpen(key: string | null, replace?: boolean): void;
  onHelp(): void;
}

export function TicketsScreen(p: Props) {
  const [filter, setFilter] = useState<TicketFilter>({ ...ALL, states: ['open', 'pending'] });
  const [pane, setPane] = useState<'tickets' | 'held'>('tickets');
  const [tickets, setTickets] = useState<Ticket[] | null>(null);
  const [total, setTotal] = useState(0);
  const [anyTicket, setAnyTicket] = useState(true);
  const [held, setHeld] = useState<HeldMessage[] | null>(null);
  const [cursor, setCursor] = useState(-1);
  const [revision, setRevision] = useState(0);
  const [knownTags, setKnownTags] = useState<string[]>([]);
  const [desks, setDesks] = useState<Desk[] | null>(null);
  useEffect(() => {
    api.listDesks().then(setDesks, () => setDesks([]));
  }, []);
  const searchRef = useRef<HTMLInputElement | null>(null);
  const filterRef = useRef(filter);
  filterRef.current = filter;
  const loadSeq = useRef(0);
  /** How many tickets the list holds; "Show more" adds a page. */
  const [shown, setShown] = useState(PAGE);
  const shownRef = useRef(shown);
  shownRef.current = shown;

  const load = useMemo(
    () => async () => {
      const seq = ++loadSeq.current;
      const f = filterRef.current;
      try {
        const [r, h, all] = await Promise.all([
          api.listTicketsUpTo(
            { ...f, assignee: f.assignee === null ? null : f.assignee.trim() },
            shownRef.current,
          ),
          api.listHeld(),
          api.listTickets(ALL, undefined, 100),
        ]);
        if (seq !== loadSeq.current) return;
        setTickets(r.tickets);
        setTotal(r.total);
        setHeld(h);
        setAnyTicket(all.total > 0);
        setKnownTags((old) => {
          const s = new Set(old);
          for (const t of [...all.tickets, ...r.tickets]) for (const tag of t.Tags) s.add(tag);
          return s.size === old.length ? old : [...s].sort();
        });
      } catch (err) {
        if (seq === loadSeq.current) {
          setTickets((t) => t ?? []);
          setHeld((h) => h ?? []);
          toast(`Could not load tickets: ${err instanceof Error ? err.message : String(err)}`, 'error');
        }
      }
    },
    [],
  );
  const loadSoon = useDebounced(() => void load(), 250);

  // A new filter reloads (typing in the search waits for a pause), from the first page again.
  const firstLoad = useRef(true);
  useEffect(() => {
    if (firstLoad.current) {
      firstLoad.current = false;
      void load();
    } else {
      setShown(PAGE);
      shownRef.current = PAGE;
      loadSoon();
    }
  }, [filter, load, loadSoon]);

  // Live: the ticket event feed.
  const onLive = useDebounced(() => {
    void load();
    setRevision((r) => r + 1);
  }, 200);
  useEffect(() => {
    if (typeof EventSource === 'undefined') return;
    const es = new EventSource(api.ticketUrls.events());
    const on = () => onLive();
    for (const t of TICKET_EVENTS) es.addEventListener(t, on);
    // Reconnected: events may have been missed in between.
    es.onopen = on;
    return () => es.close();
  }, [onLive]);

  const list = tickets ?? [];
  const openAt = p.open ? list.findIndex((t) => t.Key === p.open || t.ID === p.open) : -1;
  useEffect(() => {
    if (openAt >= 0) setCursor(openAt);
  }, [openAt]);

  const openIndex = (i: number) => {
    const t = list[Math.max(0, Math.min(list.length - 1, i))];
    if (!t) return;
    setCursor(list.indexOf(t));
    p.onOpen(t.Key);
  };

  const keys = useRef<(e: KeyboardEvent) => void>(() => {});
  keys.current = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    if (isTyping(e.target)) return;
    const target = e.target as HTMLElement | null;
    const inList = !!target?.closest?.('.tk-rows') || target === document.body;
    const onControl = !!target?.closest?.('button, a, select, [role="tab"]') && !inList;
    const step = (d: number) => {
      if (pane !== 'tickets' || !list.length) return;
      if (p.open && openAt >= 0) openIndex(openAt + d);
      else setCursor((c) => Math.max(0, Math.min(list.length - 1, c < 0 ? 0 : c + d)));
    };
    let handled = true;
    switch (e.key) {
      case 'j':
        step(1);
        break;
      case 'k':
        step(-1);
        break;
      case 'ArrowDown':
        if (!inList) return;
        step(1);
        break;
      case 'ArrowUp':
        if (!inList) return;
        step(-1);
        break;
      case 'Enter':
      case 'o':
        if (onControl || cursor < 0 || pane !== 'tickets') return;
        openIndex(cursor);
        break;
      case '/':
        setPane('tickets');
        requestAnimationFrame(() => {
          searchRef.current?.focus();
          searchRef.current?.select();
        });
        break;
      case 'Escape':
        if (p.open) p.onOpen(null);
        else if (filter.query) setFilter({ ...filter, query: '' });
        else return;
        break;
      case '?':
        p.onHelp();
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  };
  useEffect(() => {
    const on = (e: KeyboardEvent) => keys.current(e);
    document.addEventListener('keydown', on);
    return () => document.removeEventListener('keydown', on);
  }, []);

  const filtered =
    !!filter.query.trim() || filter.assignee !== null || !!filter.tag || filter.states.length < 4;
  const heldCount = held?.length ?? 0;

  return (
    <div class={`tickets-screen ${p.open ? 'has-ticket' : 'no-ticket'}`}>
      <section class="list-pane tk-list-pane" aria-label="Tickets">
        <div class="tk-pane-tabs" role="tablist" aria-label="Tickets or held messages">
          <button
            type="button"
            role="tab"
            aria-selected={pane === 'tickets'}
            class={`tk-pane-tab ${pane === 'tickets' ? 'active' : ''}`}
            onClick={() => setPane('tickets')}
          >
            Tickets
            {tickets !== null && <span class="nav-count">{total}</span>}
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={pane === 'held'}
            class={`tk-pane-tab ${pane === 'held' ? 'active' : ''}`}
            data-testid="held-tab"
            onClick={() => setPane('held')}
          >
            Held
            {heldCount > 0 && <span class="nav-count tk-held-count">{heldCount}</span>}
          </button>
        </div>
        {pane === 'tickets' ? (
          <>
            <TicketFilters filter={filter} searchRef={searchRef} onFilter={setFilter} />
            <TicketRows
              tickets={tickets}
              total={total}
              cursor={cursor}
              openKey={p.open}
              filtered={filtered && anyTicket}
              intake={desks?.[0]?.Intake ?? null}
              onOpen={openIndex}
              onMore={() => {
                shownRef.current = shown + PAGE;
                setShown(shownRef.current);
                void load();
              }}
            />
          </>
        ) : (
          <HeldList
            held={held}
            onResolved={(t) => {
              void load();
              if (t) {
                setPane('tickets');
                p.onOpen(t.Key);
              }
            }}
          />
        )}
      </section>
      <main class="message-pane tk-pane" aria-label="Ticket">
        {p.open ? (
          <TicketView
            key={p.open}
            id={p.open}
            revision={revision}
            allTags={knownTags}
            onClose={() => p.onOpen(null)}
            onChanged={() => void load()}
            onTagClick={(tag) => {
              setPane('tickets');
              setFilter({ ...filter, tag, states: [] });
            }}
          />
        ) : anyTicket || tickets === null || desks === null ? (
          <div class="placeholder-pane">
            <p class="empty-title">Select a ticket</p>
            <p class="empty-sub">
              Use <kbd>j</kbd> and <kbd>k</kbd> to move, <kbd>Enter</kbd> to open, <kbd>/</kbd> to search.
            </p>
          </div>
        ) : desks.length > 0 ? (
          <DesksWaiting desks={desks} />
        ) : (
          <DeskSetup />
        )}
      </main>
    </div>
  );
}

/** Shown while the desks have no ticket yet: where mail opens one. */
function DesksWaiting({ desks }: { desks: Desk[] }) {
  return (
    <div class="placeholder-pane tk-setup" data-testid="desks-waiting">
      <p class="empty-title">No tickets yet</p>
      <p class="empty-sub">Mail to a desk’s intake address opens a ticket:</p>
      <ul class="tk-desks">
        {desks.map((d) => (
          <li key={d.Name}>
            <code>{d.Intake}</code>
            <span class="muted">
              {' '}
              → {d.Prefix}-…{d.Acknowledge ? ', acknowledged to the sender' : ''}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Shown while no desk is configured: how to set one up. */
function DeskSetup() {
  return (
    <div class="placeholder-pane tk-setup" data-testid="desk-setup">
      <p class="empty-title">No tickets yet</p>
      <p class="empty-sub">
        A desk turns mail to its intake address into tickets. Start Mailroom with a desk and a secret that
        signs its reply addresses:
      </p>
      <pre class="tk-setup-code">
        {
          'mailroom start --local-domains support.example \\\n  --desk \'support.example?prefix=SUPPORT&ack=on\' \\\n  --ticket-secret "$(openssl rand -hex 32)"'
        }
      </pre>
      <p class="empty-sub">
        Mail to <code>new@support.example</code> then opens a ticket, and the customer’s replies come back to
        it.
      </p>
    </div>
  );
}
