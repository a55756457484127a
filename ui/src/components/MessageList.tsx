// The virtualized message list: a scroll area as tall as every row together, with only the rows
// in view (plus a few) in the DOM. Rows are a fixed height, so any index maps to a position
// without measuring. Past the browser's maximum element height the scroll position is scaled.
import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { addressLabel, formatFullTime, formatListTime, formatSize } from '../format.ts';
import { useObservable } from '../hooks.ts';
import type { ListLoader } from '../list-loader.ts';
import type { Summary } from '../types.ts';
import { IconPaperclip } from './Icons.tsx';
import { SafeText } from './SafeText.tsx';

export const ROW_H = 76;
const OVERSCAN = 8;
/** Browsers cap element heights (~33 M px in Chrome); stay well below. */
const MAX_PX = 12_000_000;

/** What the parent can ask of the list. */
export interface ListHandle {
  /** Scrolls the least needed to show row `index`. */
  scrollToIndex(index: number): void;
  /** How many rows fit in the viewport (for Page Up/Down). */
  pageRows(): number;
  focus(): void;
}

interface Props {
  loader: ListLoader<Summary>;
  handle: RefObject<ListHandle | null>;
  cursor: number;
  openId: string | null;
  selected: ReadonlySet<string>;
  query: string;
  label: string;
  onOpen(index: number, item: Summary): void;
  onSelect(index: number, item: Summary, mode: 'toggle' | 'range'): void;
  onTag(tag: string): void;
  /** Shows each row's inbox as a chip leading to it; null hides them. */
  onInbox: ((name: string) => void) | null;
}

function geometry(total: number, scrollTop: number, height: number) {
  const content = total * ROW_H;
  const spacer = Math.min(content, MAX_PX);
  const scaled = content > spacer && spacer > height;
  // The "virtual" scroll offset into the full content.
  const top = scaled ? (scrollTop / (spacer - height)) * (content - height) : scrollTop;
  return { content, spacer, scaled, top };
}

export function MessageList(p: Props) {
  const { loader } = p;
  const model = loader.model;
  useObservable(model);
  const scroller = useRef<HTMLDivElement>(null);
  const [vp, setVp] = useState({ top: 0, height: 600 });
  const anchor = useRef<{ id: string; index: number } | null>(null);

  // Follow scrolling and resizing, one update per frame.
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let frame = 0;
    const read = () => {
      frame = 0;
      setVp((old) =>
        old.top === el.scrollTop && old.height === el.clientHeight
          ? old
          : { top: el.scrollTop, height: el.clientHeight },
      );
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(read);
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    read();
    return () => {
      el.removeEventListener('scroll', onScroll);
      ro.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, []);

  const total = model.total;
  const g = geometry(total, vp.top, vp.height);
  const firstVisible = Math.floor(g.top / ROW_H);
  const lastVisible = Math.ceil((g.top + vp.height) / ROW_H);
  const from = Math.max(0, firstVisible - OVERSCAN);
  const to = Math.min(total, lastVisible + OVERSCAN);

  // Ask for what is missing once scrolling pauses; at once for the first page. A pause is 60 ms
  // without a new range and then a frame in which the scroll position did not move: on a busy
  // machine a frame can take longer than 60 ms, and a stall is not a stop.
  useEffect(() => {
    const want = () => loader.ensure(from, Math.max(to, from + 1));
    if (!model.loaded) {
      want();
      return;
    }
    let timer = 0;
    let frame = 0;
    const wait = () => {
      timer = window.setTimeout(() => {
        const at = scroller.current?.scrollTop;
        frame = requestAnimationFrame(() => (scroller.current?.scrollTop === at ? want() : wait()));
      }, 60);
    };
    wait();
    return () => {
      clearTimeout(timer);
      cancelAnimationFrame(frame);
    };
  }, [loader, model, from, to, model.version]);

  // Keep the rows on screen still when mail arrives above them (or is deleted above them).
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    if (a && el.scrollTop > 0 && !g.scaled) {
      const now = model.indexOf(a.id);
      if (now >= 0 && now !== a.index) {
        el.scrollTop += (now - a.index) * ROW_H;
        anchor.current = { id: a.id, index: now };
        return;
      }
    }
    const top = model.itemAt(firstVisible);
    anchor.current = top ? { id: top.ID, index: firstVisible } : null;
  });

  p.handle.current = {
    scrollToIndex(index: number) {
      const el = scroller.current;
      if (!el) return;
      const h = el.clientHeight;
      const cur = geometry(model.total, el.scrollTop, h);
      let top = cur.top;
      const rowTop = index * ROW_H;
      if (rowTop < top) top = rowTop;
      else if (rowTop + ROW_H > top + h) top = rowTop + ROW_H - h;
      else return;
      el.scrollTop = cur.scaled ? (top / (cur.content - h)) * (cur.spacer - h) : top;
    },
    pageRows: () => Math.max(1, Math.floor((scroller.current?.clientHeight ?? ROW_H) / ROW_H) - 1),
    focus: () => scroller.current?.focus(),
  };

  const rows = [];
  const now = new Date();
  for (let i = from; i < to; i++) {
    const item = model.itemAt(i);
    const y = Math.round(i * ROW_H - g.top + vp.top);
    rows.push(
      item ? (
        <Row
          key={item.ID}
          index={i}
          item={item}
          y={y}
          now={now}
          cursor={i === p.cursor}
          open={item.ID === p.openId}
          selected={p.selected.has(item.ID)}
          props={p}
        />
      ) : (
        <div
          key={`ph-${i}`}
          id={`row-${i}`}
          class="row placeholder"
          style={{ transform: `translateY(${y}px)` }}
        >
          <div class="sk sk-a" />
          <div class="sk sk-b" />
          <div class="sk sk-c" />
        </div>
      ),
    );
  }

  const empty = model.loaded && total === 0;
  return (
    <div
      ref={scroller}
      class="list-scroll"
      role="listbox"
      aria-label={p.label}
      aria-multiselectable="true"
      aria-activedescendant={p.cursor >= 0 && p.cursor < total ? `row-${p.cursor}` : undefined}
      tabIndex={0}
      data-total={total}
    >
      <div class="list-spacer" style={{ height: `${g.spacer}px` }}>
        {rows}
      </div>
      {empty && <EmptyList query={p.query} />}
    </div>
  );
}

function EmptyList({ query }: { query: string }) {
  return (
    <div class="empty">
      <svg viewBox="0 0 120 90" width="120" height="90" aria-hidden="true" class="empty-art">
        <rect x="10" y="18" width="100" height="62" rx="8" />
        <path d="m12 22 48 34 48-34" />
      </svg>
      {query ? (
        <>
          <p class="empty-title">No messages match this search</p>
          <p class="empty-sub">
            Nothing matches <code>{query}</code>. Try fewer words, or <kbd>Esc</kbd> to clear.
          </p>
        </>
      ) : (
        <>
          <p class="empty-title">The inbox is empty</p>
          <p class="empty-sub">Mail sent to Mailroom's SMTP listener shows up here the moment it arrives.</p>
        </>
      )}
    </div>
  );
}

interface RowProps {
  index: number;
  item: Summary;
  y: number;
  now: Date;
  cursor: boolean;
  open: boolean;
  selected: boolean;
  props: Props;
}

function Row({ index, item, y, now, cursor, open, selected, props }: RowProps) {
  const from = addressLabel(item.From) || item.From?.Address || '';
  const cls = [
    'row',
    item.Read ? 'read' : 'unread',
    cursor && 'cursor',
    open && 'open',
    selected && 'selected',
  ]
    .filter(Boolean)
    .join(' ');
  const onClick = (e: MouseEvent) => {
    if (e.shiftKey) props.onSelect(index, item, 'range');
    else if (e.ctrlKey || e.metaKey) props.onSelect(index, item, 'toggle');
    else props.onOpen(index, item);
  };
  return (
    // The listbox owns focus and points at its rows with aria-activedescendant (the keyboard
    // handler moves, opens and selects), so a row needs neither focus nor key handlers.
    // biome-ignore lint/a11y/useFocusableInteractive: see above.
    // biome-ignore lint/a11y/useKeyWithClickEvents: see above.
    <div
      id={`row-${index}`}
      class={cls}
      role="option"
      aria-selected={selected}
      aria-current={open ? 'true' : undefined}
      data-id={item.ID}
      style={{ transform: `translateY(${y}px)` }}
      onClick={onClick}
      onMouseDown={(e) => {
        // Shift-click selects; keep the browser from selecting text.
        if (e.shiftKey) e.preventDefault();
      }}
    >
      <span
        class="row-check"
        aria-hidden="true"
        onClick={(e) => {
          e.stopPropagation();
          props.onSelect(index, item, e.shiftKey ? 'range' : 'toggle');
        }}
      >
        <span class="check-box">{selected ? '✓' : ''}</span>
      </span>
      <div class="row-main">
        <div class="row-top">
          {!item.Read && <span class="dot" title="Unread" />}
          <span class="row-from">
            {from ? <SafeText text={from} max={120} /> : <em class="muted">(no sender)</em>}
          </span>
          <span class="row-meta">
            {item.Attachments > 0 && (
              <span
                class="row-att"
                title={`${item.Attachments} attachment${item.Attachments === 1 ? '' : 's'}`}
              >
                <IconPaperclip size={14} />
              </span>
            )}
            <span class="row-size">{formatSize(item.Size)}</span>
            <time class="row-time" dateTime={item.Created} title={formatFullTime(item.Created)}>
              {formatListTime(item.Created, now)}
            </time>
          </span>
        </div>
        <div class="row-subject">
          {item.Subject ? (
            <SafeText text={item.Subject} max={300} />
          ) : item.ParseState === 'pending' ? (
            <em class="muted">Reading the message…</em>
          ) : (
            <em class="muted">(no subject)</em>
          )}
          {item.ParseState === 'failed' && (
            <span
              class="badge badge-warn"
              title="The message could not be parsed; its Raw tab shows it as received"
            >
              unreadable
            </span>
          )}
        </div>
        <div class="row-bottom">
          <span class="row-snippet">{item.Snippet}</span>
          {props.onInbox && item.Envelope?.Inbox && (
            <button
              type="button"
              tabIndex={-1}
              class="chip chip-inbox"
              title={`Show inbox ${item.Envelope.Inbox}`}
              onClick={(e) => {
                e.stopPropagation();
                props.onInbox?.(item.Envelope!.Inbox!);
              }}
            >
              <SafeText text={item.Envelope.Inbox} max={40} />
            </button>
          )}
          {(item.Tags ?? []).slice(0, 3).map((t) => (
            <button
              type="button"
              tabIndex={-1}
              key={t}
              class="chip"
              title={`Show messages tagged ${t}`}
              onClick={(e) => {
                e.stopPropagation();
                props.onTag(t);
              }}
            >
              <SafeText text={t} max={40} />
            </button>
          ))}
        </div>
      </div>
    </div>
  );
}
