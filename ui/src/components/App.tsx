// The web inbox: wires the route, the list (model + loader), live events, keyboard shortcuts and
// the actions (read state, delete, tags) together. Layout: top bar, sidebar, list, message.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import * as api from '../api.ts';
import { formatCount } from '../format.ts';
import { isTyping, useDebounced, useMedia, useObservable } from '../hooks.ts';
import { ListLoader } from '../list-loader.ts';
import { ListModel } from '../list-model.ts';
import { connectLive, type LiveStatus } from '../live.ts';
import { navigate, type Route, useRoute } from '../router.ts';
import { applyTheme, loadTheme, type ThemePref, toggledTheme } from '../theme.ts';
import type { InboxList, LiveEvent, Message, Summary, WebUiConfig } from '../types.ts';
import { ListToolbar } from './ListToolbar.tsx';
import { type ListHandle, MessageList } from './MessageList.tsx';
import { MessageView, needsHtml, TAB_ORDER, type TabId } from './MessageView.tsx';
import { ConfirmDialog, ShortcutsDialog } from './Modal.tsx';
import { inboxQuery, Sidebar, tagQuery } from './Sidebar.tsx';
import { Toasts, toast } from './Toasts.tsx';
import { TopBar } from './TopBar.tsx';
import type { PreviewWidth } from './tabs/HtmlTab.tsx';
import { TicketsScreen } from './tickets/TicketsScreen.tsx';

const PAGE = 100;
const TAB_KEY = 'mailroom.tab';
const WIDTH_KEY = 'mailroom.width';

interface ListState {
  query: string;
  model: ListModel<Summary>;
  loader: ListLoader<Summary>;
}

interface Counts {
  total: number;
  unread: number;
}

interface Confirm {
  title: string;
  message: string;
  label: string;
  run(): void;
}

function stored<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  try {
    const v = localStorage.getItem(key);
    return v && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

function store(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered; nothing else depends on it.
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function App() {
  const route = useRoute();
  const routeRef = useRef(route);
  routeRef.current = route;

  // Theme.
  const [themePref, setThemePref] = useState<ThemePref>(loadTheme);
  const systemDark = useMedia('(prefers-color-scheme: dark)');
  const dark = themePref === 'dark' || (themePref === 'system' && systemDark);

  // Server state outside the list.
  const [webui, setWebui] = useState<WebUiConfig | null>(null);
  const [version, setVersion] = useState('');
  const [counts, setCounts] = useState<Counts>({ total: 0, unread: 0 });
  const [tags, setTags] = useState<string[]>([]);
  const [inboxes, setInboxes] = useState<InboxList | null>(null);
  const [live, setLive] = useState<LiveStatus>('connecting');

  // UI state.
  const [help, setHelp] = useState(false);
  const [confirm, setConfirm] = useState<Confirm | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const [tab, setTabState] = useState<TabId>(() => stored(TAB_KEY, TAB_ORDER, 'html'));
  const [width, setWidthState] = useState<PreviewWidth>(() =>
    stored(WIDTH_KEY, ['phone', 'tablet', 'desktop'] as const, 'desktop'),
  );
  const [remoteFor, setRemoteFor] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [cursor, setCursor] = useState<{ index: number; id: string | null }>({ index: -1, id: null });
  const [revision, setRevision] = useState(0);
  const openMsg = useRef<Message | null>(null);
  const rangeAnchor = useRef(-1);
  const listHandle = useRef<ListHandle | null>(null);
  const searchRef = useRef<HTMLInputElement | null>(null);
  /** Ids this tab deleted itself, so their delete events are not counted twice. */
  const tombstones = useRef(new Set<string>());

  const setTab = (t: TabId) => {
    setTabState(t);
    store(TAB_KEY, t);
  };
  const setWidth = (w: PreviewWidth) => {
    setWidthState(w);
    store(WIDTH_KEY, w);
  };

  // The list for the current search; a new query gets a new list.
  const list = useMemo<ListState>(() => {
    const model = new ListModel<Summary>();
    const query = route.query;
    const loader = new ListLoader<Summary>(
      model,
      async (start, limit, signal) => {
        const r = await api.listMessages(query, start, limit, signal);
        setCounts({ total: r.total, unread: r.unread });
        return { total: r.messages_count ?? r.total, items: r.messages ?? [] };
      },
      PAGE,
    );
    loader.onError = (err) => toast(`Could not load messages: ${err.message}`, 'error');
    return { query, model, loader };
  }, [route.query]);
  const listRef = useRef(list);
  listRef.current = list;
  useEffect(() => {
    setSelected(new Set());
    setCursor({ index: -1, id: null });
    return () => list.loader.close();
  }, [list]);

  const refreshCounts = useMemo(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        api.listMessages('', 0, 1).then(
          (r) => setCounts({ total: r.total, unread: r.unread }),
          () => {},
        );
      }, 400);
    };
  }, []);

  const refreshTags = useDebounced(() => {
    api.getTags().then(setTags, () => {});
  }, 300);

  /** After a burst of live mail: refetch what is shown and the counts, once it is quiet. */
  const reconcile = useDebounced(() => {
    listRef.current.loader.refresh();
    refreshCounts();
  }, 1000);

  /** A search list cannot place live mail itself: it refetches, a little after a burst. */
  const refreshSearch = useDebounced(() => listRef.current.loader.refresh(), 300);

  // The first page of the list goes out first and alone: configuration, tags and the live
  // connection follow once it has landed (or after a short while, should it be slow), so they do
  // not queue in front of it. The version arrives with the live connection's stats.
  const [started, setStarted] = useState(false);
  useEffect(() => {
    if (started) return;
    const start = () => setStarted(true);
    const t = setTimeout(start, 400);
    const off = list.model.subscribe(() => {
      if (list.model.loaded) start();
    });
    return () => {
      clearTimeout(t);
      off();
    };
  }, [started, list]);
  useEffect(() => {
    if (!started) return;
    api.getWebUi().then(setWebui, () => setWebui({}));
    api.getTags().then(setTags, () => {});
    api.getInboxes().then(setInboxes, () => {});
  }, [started]);
  // Per-inbox counts follow the live stats, only where there are several inboxes to show.
  const refreshInboxes = useDebounced(() => {
    api.getInboxes().then(setInboxes, () => {});
  }, 1000);

  const inboxesRef = useRef(inboxes);
  inboxesRef.current = inboxes;

  // Live events.
  const onEvent = useRef<(ev: LiveEvent) => void>(() => {});
  onEvent.current = (ev: LiveEvent) => {
    const { model, query } = listRef.current;
    switch (ev.Type) {
      case 'new': {
        const m = ev.Data;
        if (!m?.ID) return;
        if (model.get(m.ID)) {
          // Listed already while it was being parsed: now it has its subject, sender...
          model.update(m.ID, m);
          if (openMsg.current?.ID === m.ID) setRevision((r) => r + 1);
        } else if (query) {
          refreshSearch();
          refreshCounts();
        } else if (model.prepend(m)) {
          setCounts((c) => ({ total: c.total + 1, unread: c.unread + (m.Read ? 0 : 1) }));
        }
        // A message listed (and counted) before its event came would be counted twice above; a
        // look at the top of the list once the burst is over settles the count and the order.
        reconcile();
        if (m.Tags?.some((t) => !tags.includes(t))) refreshTags();
        break;
      }
      case 'update': {
        const d = ev.Data;
        if (!d?.ID) return;
        const patch: Partial<Summary> = {};
        if (typeof d.Read === 'boolean') patch.Read = d.Read;
        if (Array.isArray(d.Tags)) patch.Tags = d.Tags;
        const prev = model.update(d.ID, patch);
        if (typeof d.Read === 'boolean') {
          if (prev && prev.Read !== d.Read) {
            setCounts((c) => ({ ...c, unread: Math.max(0, c.unread + (d.Read ? -1 : 1)) }));
          } else if (!prev) refreshCounts();
        }
        if (Array.isArray(d.Tags)) {
          refreshTags();
          const open = openMsg.current;
          if (open && open.ID === d.ID && (open.Tags ?? []).join('\n') !== d.Tags.join('\n')) {
            setRevision((r) => r + 1);
          }
        }
        break;
      }
      case 'delete': {
        const id = ev.Data?.ID;
        if (!id) return;
        if (tombstones.current.delete(id)) return;
        const prev = model.get(id);
        model.remove([id], !query);
        setCounts((c) => ({
          total: Math.max(0, c.total - 1),
          unread: Math.max(0, c.unread - (prev && !prev.Read ? 1 : 0)),
        }));
        if (!prev) refreshCounts();
        setSelected((s) => {
          if (!s.has(id)) return s;
          const n = new Set(s);
          n.delete(id);
          return n;
        });
        if (routeRef.current.id === id) navigate({ ...routeRef.current, id: null }, true);
        break;
      }
      case 'truncate':
        model.clear(0);
        setCounts({ total: 0, unread: 0 });
        setSelected(new Set());
        if (query) listRef.current.loader.refresh();
        if (routeRef.current.id) navigate({ ...routeRef.current, id: null }, true);
        break;
      case 'prune':
        listRef.current.loader.refresh();
        refreshCounts();
        break;
      case 'stats':
        if (ev.Data) {
          if (inboxesRef.current && inboxesRef.current.Inboxes.length > 1) refreshInboxes();
          setCounts({ total: ev.Data.Total, unread: ev.Data.Unread });
          if (ev.Data.Version) setVersion(ev.Data.Version);
        }
        break;
    }
  };
  useEffect(() => {
    if (!started) return;
    return connectLive({
      onEvent: (ev) => onEvent.current(ev),
      onStatus: setLive,
      onResync: () => {
        listRef.current.loader.refresh();
        refreshCounts();
        refreshTags();
      },
    });
  }, [started, refreshCounts, refreshTags]);

  // Title: unread count first, so it shows in a narrow tab.
  useEffect(() => {
    const label = webui?.Label ? `${webui.Label} · ` : '';
    document.title = `${counts.unread > 0 ? `(${formatCount(counts.unread)}) ` : ''}${label}Mailroom`;
  }, [counts.unread, webui]);

  // Navigation helpers.
  const go = useCallback((r: Partial<Route>, replace = false) => {
    navigate({ ...routeRef.current, ...r }, replace);
  }, []);

  const cursorIndex = (): number => {
    const { model } = listRef.current;
    if (cursor.id) {
      const i = model.indexOf(cursor.id);
      if (i >= 0) return i;
    }
    return Math.min(cursor.index, model.total - 1);
  };

  const moveCursor = (index: number) => {
    const { model } = listRef.current;
    if (model.total === 0) return;
    const i = Math.max(0, Math.min(model.total - 1, index));
    setCursor({ index: i, id: model.itemAt(i)?.ID ?? null });
    listHandle.current?.scrollToIndex(i);
    return i;
  };

  const markOpened = (item: Summary) => {
    if (item.Read) return;
    listRef.current.model.update(item.ID, { Read: true });
    setCounts((c) => ({ ...c, unread: Math.max(0, c.unread - 1) }));
  };

  const openIndex = (index: number, replace = false) => {
    const { model } = listRef.current;
    const i = moveCursor(index);
    if (i === undefined) return;
    const item = model.itemAt(i);
    if (!item) return;
    markOpened(item);
    setRemoteFor(null);
    go({ id: item.ID }, replace);
  };

  const closeMessage = () => {
    go({ id: null });
    requestAnimationFrame(() => listHandle.current?.focus());
  };

  // Actions.
  const targets = (): string[] => {
    if (selected.size) return [...selected];
    if (route.id) return [route.id];
    const item = listRef.current.model.itemAt(cursorIndex());
    return item ? [item.ID] : [];
  };

  const setRead = async (ids: string[], read: boolean) => {
    if (!ids.length) return;
    const { model } = listRef.current;
    let delta = 0;
    for (const id of ids) {
      const prev = model.update(id, { Read: read });
      if (prev && prev.Read !== read) delta += read ? -1 : 1;
    }
    setCounts((c) => ({ ...c, unread: Math.max(0, c.unread + delta) }));
    try {
      await api.setRead(ids, read);
    } catch (err) {
      toast(`Could not change the read state: ${errorText(err)}`, 'error');
      listRef.current.loader.refresh();
    }
    refreshCounts();
  };

  const toggleRead = () => {
    const ids = targets();
    const { model } = listRef.current;
    const anyUnread = ids.some((id) => model.get(id)?.Read === false);
    const openOnly = ids.length === 1 && ids[0] === route.id && !selected.size;
    // The open message is read (opening marked it), so "r" on it means "mark unread".
    void setRead(ids, openOnly ? false : anyUnread);
  };

  const deleteIds = async (ids: string[]) => {
    if (!ids.length) return;
    const { model, loader, query } = listRef.current;
    const openId = routeRef.current.id;
    const openAt = openId ? model.indexOf(openId) : -1;
    let unreadGone = 0;
    for (const id of ids) {
      if (model.get(id)?.Read === false) unreadGone++;
      tombstones.current.add(id);
    }
    setTimeout(() => {
      for (const id of ids) tombstones.current.delete(id);
    }, 30_000);
    model.remove(ids, !query);
    // The counts are the mailbox's: every deleted message leaves it, listed here or not.
    setCounts((c) => ({
      total: Math.max(0, c.total - ids.length),
      unread: Math.max(0, c.unread - unreadGone),
    }));
    setSelected(new Set());
    if (openId && ids.includes(openId)) {
      // Show the next (older) message in the deleted one's place, as mail clients do.
      const next = openAt >= 0 ? model.itemAt(Math.min(openAt, model.total - 1)) : undefined;
      if (next) openIndex(model.indexOf(next.ID), true);
      else go({ id: null }, true);
    } else {
      moveCursor(Math.min(cursorIndex(), model.total - 1));
    }
    try {
      await api.deleteMessages(ids);
      toast(ids.length === 1 ? 'Message deleted' : `${formatCount(ids.length)} messages deleted`);
    } catch (err) {
      toast(`Could not delete: ${errorText(err)}`, 'error');
    }
    loader.refresh();
    refreshCounts();
  };

  const deleteAll = () => {
    const { query, model } = listRef.current;
    const n = model.total;
    setConfirm({
      title: query ? 'Delete all matching messages?' : 'Delete all messages?',
      message: query
        ? `All ${formatCount(n)} messages matching “${query}” will be deleted. This cannot be undone.`
        : `All ${formatCount(n)} messages in the mailbox will be deleted. This cannot be undone.`,
      label: query ? `Delete ${formatCount(n)}` : 'Delete all',
      run: async () => {
        const cur = listRef.current;
        try {
          if (cur.query) await api.deleteSearch(cur.query);
          else {
            cur.model.clear(0);
            setCounts({ total: 0, unread: 0 });
            await api.deleteMessages('all');
          }
          toast('Messages deleted');
        } catch (err) {
          toast(`Could not delete: ${errorText(err)}`, 'error');
        }
        if (routeRef.current.id) go({ id: null }, true);
        cur.loader.refresh();
        refreshCounts();
      },
    });
  };

  const markAllRead = async () => {
    const { model } = listRef.current;
    try {
      await api.setRead('all', true);
      setCounts((c) => ({ ...c, unread: 0 }));
      model.invalidate();
      listRef.current.loader.refresh();
    } catch (err) {
      toast(`Could not mark all read: ${errorText(err)}`, 'error');
    }
  };

  const setMessageTags = async (id: string, next: string[]) => {
    try {
      await api.setTags([id], next);
      listRef.current.model.update(id, { Tags: next });
      setRevision((r) => r + 1);
      refreshTags();
    } catch (err) {
      toast(`Could not change tags: ${errorText(err)}`, 'error');
    }
  };

  const onSelect = (index: number, item: Summary, mode: 'toggle' | 'range') => {
    const { model } = listRef.current;
    setSelected((s) => {
      const n = new Set(s);
      if (mode === 'range' && rangeAnchor.current >= 0) {
        const [a, b] = [Math.min(rangeAnchor.current, index), Math.max(rangeAnchor.current, index)];
        for (let i = a; i <= b; i++) {
          const it = model.itemAt(i);
          if (it) n.add(it.ID);
        }
      } else if (n.has(item.ID)) n.delete(item.ID);
      else n.add(item.ID);
      return n;
    });
    rangeAnchor.current = index;
    setCursor({ index, id: item.ID });
  };

  const selectAllLoaded = () => {
    const { model } = listRef.current;
    const ids: string[] = [];
    for (let i = 0; i < model.total && ids.length < 20_000; i++) {
      const it = model.itemAt(i);
      if (it) ids.push(it.ID);
    }
    const all = ids.length > 0 && ids.every((id) => selected.has(id));
    setSelected(all ? new Set() : new Set(ids));
  };

  const switchTab = (dir: 1 | -1) => {
    const msg = openMsg.current;
    const avail = TAB_ORDER.filter((t) => (needsHtml(t) ? !!msg?.HTML : true));
    const at = Math.max(0, avail.indexOf(tab));
    const next = avail[(at + dir + avail.length) % avail.length];
    if (next) setTab(next);
  };

  // Keyboard shortcuts (see ShortcutsDialog for the list).
  const lastG = useRef(0);
  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => {});
  keyHandler.current = (e: KeyboardEvent) => {
    // The tickets screen has its own keys.
    if (routeRef.current.view === 'tickets') return;
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector('dialog[open]')) return;
    if (isTyping(e.target)) return;
    const target = e.target as HTMLElement | null;
    const inList = !!target?.closest?.('.list-scroll') || target === document.body;
    const onControl = !!target?.closest?.('button, a, [role="tab"]') && !inList;
    const { model } = listRef.current;
    const cur = cursorIndex();
    const step = (d: number) => {
      if (route.id) {
        const at = model.indexOf(route.id);
        openIndex((at >= 0 ? at : cur) + d);
      } else moveCursor(cur < 0 ? 0 : cur + d);
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
      case 'PageDown':
        if (!inList) return;
        moveCursor(Math.max(cur, 0) + (listHandle.current?.pageRows() ?? 10));
        break;
      case 'PageUp':
        if (!inList) return;
        moveCursor(Math.max(cur, 0) - (listHandle.current?.pageRows() ?? 10));
        break;
      case 'Enter':
      case 'o':
        if (onControl || cur < 0) return;
        openIndex(cur);
        break;
      case 'x':
      case ' ': {
        if (e.key === ' ' && !inList) return;
        const item = model.itemAt(cur);
        if (item) onSelect(cur, item, 'toggle');
        break;
      }
      case 'Delete':
      case '#':
        void deleteIds(targets());
        break;
      case 'r':
        toggleRead();
        break;
      case '/':
        searchRef.current?.focus();
        searchRef.current?.select();
        break;
      case 'Escape':
        if (menuOpen) setMenuOpen(false);
        else if (route.id) closeMessage();
        else if (selected.size) setSelected(new Set());
        else if (route.query) go({ query: '' });
        else return;
        break;
      case 'Home':
        if (!inList && route.id) return;
        moveCursor(0);
        break;
      case 'End':
      case 'G':
        if (!inList && route.id && e.key === 'End') return;
        moveCursor(model.total - 1);
        break;
      case 'g': {
        const now = Date.now();
        if (now - lastG.current < 800) {
          moveCursor(0);
          lastG.current = 0;
        } else lastG.current = now;
        break;
      }
      case '?':
        setHelp(true);
        break;
      case '[':
        if (!route.id) return;
        switchTab(-1);
        break;
      case ']':
        if (!route.id) return;
        switchTab(1);
        break;
      default:
        handled = false;
    }
    if (handled) e.preventDefault();
  };
  useEffect(() => {
    const on = (e: KeyboardEvent) => keyHandler.current(e);
    document.addEventListener('keydown', on);
    return () => document.removeEventListener('keydown', on);
  }, []);

  // Keep the cursor on the open message (deep links, back/forward).
  useEffect(() => {
    if (!route.id) return;
    const i = listRef.current.model.indexOf(route.id);
    if (i >= 0) setCursor({ index: i, id: route.id });
  }, [route.id]);

  const onLoaded = (msg: Message) => {
    openMsg.current = msg;
    const item = listRef.current.model.get(msg.ID);
    if (item) markOpened(item);
    if (item && (item.Tags ?? []).join('\n') !== (msg.Tags ?? []).join('\n')) {
      listRef.current.model.update(msg.ID, { Tags: msg.Tags ?? [] });
    }
  };

  const runQuery = (q: string) => {
    setMenuOpen(false);
    go({ view: 'mail', query: q, id: null });
  };

  const at = route.id ? list.model.indexOf(route.id) : -1;
  const hideDeleteAll = !!webui?.HideDeleteAllButton;

  return (
    <div
      class={`app ${route.view === 'tickets' ? 'tickets-view' : route.id ? 'has-msg' : 'no-msg'} ${menuOpen ? 'menu-open' : ''}`}
    >
      <TopBar
        query={route.query}
        label={webui?.Label ?? ''}
        searchRef={searchRef}
        dark={dark}
        onSearch={runQuery}
        onHelp={() => setHelp(true)}
        onMenu={() => setMenuOpen((m) => !m)}
        onTheme={(system) => {
          const next = system ? 'system' : toggledTheme(themePref);
          applyTheme(next);
          setThemePref(next);
        }}
      />
      <button
        type="button"
        class="scrim"
        tabIndex={-1}
        aria-label="Close the menu"
        onClick={() => setMenuOpen(false)}
      />
      <Sidebar
        query={route.query}
        total={counts.total}
        unread={counts.unread}
        tags={tags}
        inboxes={inboxes}
        live={live}
        version={version}
        tickets={route.view === 'tickets'}
        onQuery={runQuery}
        onTickets={() => {
          setMenuOpen(false);
          go({ view: 'tickets', ticket: null });
        }}
      />
      {route.view === 'tickets' ? (
        <TicketsScreen
          open={route.ticket}
          onOpen={(key, replace) => go({ view: 'tickets', ticket: key }, replace)}
          onHelp={() => setHelp(true)}
        />
      ) : (
        <>
          <ListPane
            list={list}
            cursor={cursor}
            openId={route.id}
            selected={selected}
            handle={listHandle}
            hideDeleteAll={hideDeleteAll}
            onOpen={(i) => openIndex(i)}
            onSelect={onSelect}
            onTag={(t) => runQuery(tagQuery(t))}
            onInbox={
              inboxes && !inboxes.Scoped && inboxes.Inboxes.length > 1
                ? (name) => runQuery(inboxQuery(name))
                : null
            }
            onSelectAll={selectAllLoaded}
            onClearSelection={() => setSelected(new Set())}
            onMarkRead={(read) => void setRead([...selected], read)}
            onDelete={() => void deleteIds([...selected])}
            onMarkAllRead={() => void markAllRead()}
            onDeleteAll={deleteAll}
          />
          <main class="message-pane" aria-label="Message">
            {route.id ? (
              <MessageView
                key={route.id}
                id={route.id}
                tab={tab}
                onTab={setTab}
                width={width}
                onWidth={setWidth}
                remote={remoteFor === route.id}
                onAllowRemote={() => setRemoteFor(route.id)}
                webui={webui}
                allTags={tags}
                revision={revision}
                hasPrev={at > 0}
                hasNext={at >= 0 && at < list.model.total - 1}
                onLoaded={onLoaded}
                onClose={closeMessage}
                onPrev={() => at > 0 && openIndex(at - 1)}
                onNext={() => at >= 0 && openIndex(at + 1)}
                onDelete={() => route.id && void deleteIds([route.id])}
                onMarkUnread={() => {
                  if (!route.id) return;
                  void setRead([route.id], false);
                  closeMessage();
                }}
                onSetTags={(next) => route.id && void setMessageTags(route.id, next)}
                onTagClick={(t) => runQuery(tagQuery(t))}
              />
            ) : (
              <Placeholder total={counts.total} unread={counts.unread} />
            )}
          </main>
        </>
      )}
      {help && <ShortcutsDialog tickets={route.view === 'tickets'} onClose={() => setHelp(false)} />}
      {confirm && (
        <ConfirmDialog
          title={confirm.title}
          message={confirm.message}
          confirmLabel={confirm.label}
          danger
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const c = confirm;
            setConfirm(null);
            c.run();
          }}
        />
      )}
      <Toasts />
    </div>
  );
}

interface ListPaneProps {
  list: ListState;
  cursor: { index: number; id: string | null };
  openId: string | null;
  selected: ReadonlySet<string>;
  handle: { current: ListHandle | null };
  hideDeleteAll: boolean;
  onOpen(index: number): void;
  onSelect(index: number, item: Summary, mode: 'toggle' | 'range'): void;
  onTag(tag: string): void;
  /** Shows each row's inbox, leading to it; null where there is one inbox to see. */
  onInbox: ((name: string) => void) | null;
  onSelectAll(): void;
  onClearSelection(): void;
  onMarkRead(read: boolean): void;
  onDelete(): void;
  onMarkAllRead(): void;
  onDeleteAll(): void;
}

/** The toolbar and the list; re-renders (once a frame at most) as the list changes. */
function ListPane(p: ListPaneProps) {
  const { model, loader, query } = p.list;
  useObservable(model);
  let cursor = p.cursor.index;
  if (p.cursor.id) {
    const i = model.indexOf(p.cursor.id);
    if (i >= 0) cursor = i;
  }
  let allLoaded = p.selected.size > 0;
  if (allLoaded) {
    for (let i = 0; i < model.total; i++) {
      const it = model.itemAt(i);
      if (it && !p.selected.has(it.ID)) {
        allLoaded = false;
        break;
      }
      if (i > 20_000) break;
    }
  }
  return (
    <section class="list-pane" aria-label={query ? 'Search results' : 'Inbox'}>
      <ListToolbar
        total={model.total}
        loaded={model.loaded}
        query={query}
        selectedCount={p.selected.size}
        allLoadedSelected={allLoaded}
        hideDeleteAll={p.hideDeleteAll}
        onSelectAll={p.onSelectAll}
        onClearSelection={p.onClearSelection}
        onMarkRead={p.onMarkRead}
        onDelete={p.onDelete}
        onMarkAllRead={p.onMarkAllRead}
        onDeleteAll={p.onDeleteAll}
      />
      <MessageList
        loader={loader}
        handle={p.handle}
        cursor={cursor}
        openId={p.openId}
        selected={p.selected}
        query={query}
        label={query ? `Messages matching ${query}` : 'Messages'}
        onOpen={(i) => p.onOpen(i)}
        onSelect={p.onSelect}
        onTag={p.onTag}
        onInbox={query.startsWith('inbox:') ? null : p.onInbox}
      />
    </section>
  );
}

function Placeholder({ total, unread }: Counts) {
  return (
    <div class="placeholder-pane">
      <svg viewBox="0 0 120 90" width="96" height="72" aria-hidden="true" class="empty-art">
        <rect x="10" y="18" width="100" height="62" rx="8" />
        <path d="m12 22 48 34 48-34" />
      </svg>
      <p class="empty-title">{total ? 'Select a message to read it' : 'No mail yet'}</p>
      <p class="empty-sub">
        {total ? `${formatCount(total)} messages, ${formatCount(unread)} unread. ` : ''}
        Press <kbd>?</kbd> for keyboard shortcuts.
      </p>
    </div>
  );
}
