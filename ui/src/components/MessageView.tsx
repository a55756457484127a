// One message: its header (subject, people, date, tags) and the tabs that show it in every form.
// Tabs follow the WAI-ARIA tabs pattern (arrow keys, Home and End move between them).
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getMessage, urls } from '../api.ts';
import {
  addressFull,
  addressLabel,
  formatCount,
  formatFullTime,
  formatRelative,
  hueOf,
  initials,
} from '../format.ts';
import { useAsync } from '../hooks.ts';
import type { Address, Message, WebUiConfig } from '../types.ts';
import { IconAlert, IconBack, IconDown, IconDownload, IconTrash, IconUnread, IconUp } from './Icons.tsx';
import { SafeText } from './SafeText.tsx';
import { TagEditor } from './TagEditor.tsx';
import { AttachmentsTab } from './tabs/AttachmentsTab.tsx';
import { EnvelopeTab } from './tabs/EnvelopeTab.tsx';
import { HeadersTab } from './tabs/HeadersTab.tsx';
import { HtmlCheckTab } from './tabs/HtmlCheckTab.tsx';
import { HtmlTab, type PreviewWidth } from './tabs/HtmlTab.tsx';
import { LinksTab } from './tabs/LinksTab.tsx';
import { RawTab } from './tabs/RawTab.tsx';
import { RoutingTab } from './tabs/RoutingTab.tsx';
import { SourceTab } from './tabs/SourceTab.tsx';
import { SpamTab } from './tabs/SpamTab.tsx';
import { ErrorNote } from './tabs/status.tsx';
import { TextTab } from './tabs/TextTab.tsx';

export type TabId =
  | 'html'
  | 'source'
  | 'text'
  | 'headers'
  | 'raw'
  | 'attachments'
  | 'envelope'
  | 'routing'
  | 'spam'
  | 'links'
  | 'htmlcheck';

export const TAB_ORDER: TabId[] = [
  'html',
  'source',
  'text',
  'headers',
  'raw',
  'attachments',
  'envelope',
  'routing',
  'links',
  'htmlcheck',
  'spam',
];

const TAB_LABEL: Record<TabId, string> = {
  html: 'HTML',
  source: 'Source',
  text: 'Text',
  headers: 'Headers',
  raw: 'Raw',
  attachments: 'Attachments',
  envelope: 'Envelope',
  routing: 'Routing',
  spam: 'Spam',
  links: 'Links',
  htmlcheck: 'HTML check',
};

/** Tabs that show the message's HTML part, disabled when it has none. */
export const needsHtml = (t: TabId) => t === 'html' || t === 'source' || t === 'htmlcheck';

/** Tabs that have something to show for this message. */
export function availableTabs(msg: Message | null): TabId[] {
  if (!msg) return TAB_ORDER;
  return TAB_ORDER.filter((t) => (needsHtml(t) ? msg.HTML !== '' : true));
}

/** The tab to show: the one asked for when available, else HTML, else Text. */
export function effectiveTab(want: TabId, msg: Message | null): TabId {
  const avail = availableTabs(msg);
  if (avail.includes(want)) return want;
  return avail.includes('html') ? 'html' : 'text';
}

interface Props {
  id: string;
  tab: TabId;
  onTab(tab: TabId): void;
  width: PreviewWidth;
  onWidth(w: PreviewWidth): void;
  remote: boolean;
  onAllowRemote(): void;
  webui: WebUiConfig | null;
  allTags: string[];
  /** Bumped by the app when live events changed this message (tags), to refetch. */
  revision: number;
  hasPrev: boolean;
  hasNext: boolean;
  onLoaded(msg: Message): void;
  onClose(): void;
  onPrev(): void;
  onNext(): void;
  onDelete(): void;
  onMarkUnread(): void;
  onSetTags(tags: string[]): void;
  onTagClick(tag: string): void;
}

export function MessageView(p: Props) {
  const res = useAsync((signal) => getMessage(p.id, signal), [p.id, p.revision]);
  const msg = res.state === 'ok' ? res.value : null;
  const onLoaded = useRef(p.onLoaded);
  onLoaded.current = p.onLoaded;
  useEffect(() => {
    if (msg) onLoaded.current(msg);
  }, [msg]);

  return (
    <article class="msg" aria-label="Message" data-id={p.id}>
      <div class="msg-bar">
        <button type="button" class="icon-btn back-btn" onClick={p.onClose} title="Back to the list (Esc)">
          <IconBack />
          <span class="sr-only">Back to the list</span>
        </button>
        <button
          type="button"
          class="icon-btn"
          onClick={p.onPrev}
          disabled={!p.hasPrev}
          title="Newer message (k)"
        >
          <IconUp />
          <span class="sr-only">Newer message</span>
        </button>
        <button
          type="button"
          class="icon-btn"
          onClick={p.onNext}
          disabled={!p.hasNext}
          title="Older message (j)"
        >
          <IconDown />
          <span class="sr-only">Older message</span>
        </button>
        <span class="spacer" />
        <button type="button" class="icon-btn" onClick={p.onMarkUnread} title="Mark unread (r)">
          <IconUnread />
          <span class="sr-only">Mark unread</span>
        </button>
        <a class="icon-btn" href={urls.raw(p.id, true)} download={`${p.id}.eml`} title="Download .eml">
          <IconDownload />
          <span class="sr-only">Download .eml</span>
        </a>
        <button type="button" class="icon-btn danger" onClick={p.onDelete} title="Delete (Delete or #)">
          <IconTrash />
          <span class="sr-only">Delete message</span>
        </button>
      </div>
      {res.state === 'loading' && <HeaderSkeleton />}
      {res.state === 'error' && (
        <div class="pad">
          <ErrorNote
            error={
              res.error.status === 404
                ? new Error('This message no longer exists; it may have been deleted.')
                : res.error
            }
          />
        </div>
      )}
      {msg && <Loaded msg={msg} p={p} />}
    </article>
  );
}

function HeaderSkeleton() {
  return (
    <div class="msg-head" aria-busy="true">
      <div class="sk sk-title" />
      <div class="sk sk-line" />
      <div class="sk sk-line short" />
    </div>
  );
}

function Avatar({ a }: { a: Address | null }) {
  const hue = hueOf(a?.Address ?? '');
  return (
    <span class="avatar" style={{ '--hue': String(hue) }} aria-hidden="true">
      {initials(a)}
    </span>
  );
}

function AddressList({ label, list }: { label: string; list: Address[] | null }) {
  const [expanded, setExpanded] = useState(false);
  const all = list ?? [];
  if (all.length === 0) return null;
  const max = 6;
  const shown = expanded ? all : all.slice(0, max);
  return (
    <div class="addr-row">
      <span class="addr-label">{label}</span>
      <span class="addr-list">
        {shown.map((a, i) => (
          <span key={i} class="addr" title={addressFull(a)}>
            <SafeText text={addressLabel(a)} max={200} />
            {a.Name.trim() && a.Name.trim() !== a.Address && (
              <span class="addr-email">
                {' '}
                &lt;
                <SafeText text={a.Address} max={200} />
                &gt;
              </span>
            )}
            {i < shown.length - 1 && ', '}
          </span>
        ))}
        {all.length > max && (
          <button type="button" class="link-btn" onClick={() => setExpanded(!expanded)}>
            {expanded ? 'show fewer' : `+${formatCount(all.length - max)} more`}
          </button>
        )}
      </span>
    </div>
  );
}

function Loaded({ msg, p }: { msg: Message; p: Props }) {
  const tab = effectiveTab(p.tab, msg);
  const avail = availableTabs(msg);
  const tabRefs = useRef<Partial<Record<TabId, HTMLButtonElement | null>>>({});
  const attCount = (msg.Attachments?.length ?? 0) + (msg.Inline?.length ?? 0);
  const rel = formatRelative(msg.Date);

  const onTabKey = (e: KeyboardEvent) => {
    const at = avail.indexOf(tab);
    let next: TabId | undefined;
    if (e.key === 'ArrowRight') next = avail[(at + 1) % avail.length];
    else if (e.key === 'ArrowLeft') next = avail[(at - 1 + avail.length) % avail.length];
    else if (e.key === 'Home') next = avail[0];
    else if (e.key === 'End') next = avail[avail.length - 1];
    if (!next) return;
    e.preventDefault();
    p.onTab(next);
    tabRefs.current[next]?.focus();
  };

  let panel: ComponentChildren;
  switch (tab) {
    case 'html':
      panel = (
        <HtmlTab
          id={msg.ID}
          width={p.width}
          onWidth={p.onWidth}
          remote={p.remote}
          onAllowRemote={p.onAllowRemote}
        />
      );
      break;
    case 'source':
      panel = <SourceTab html={msg.HTML} id={msg.ID} />;
      break;
    case 'text':
      panel = <TextTab text={msg.Text} />;
      break;
    case 'headers':
      panel = <HeadersTab id={msg.ID} />;
      break;
    case 'raw':
      panel = <RawTab id={msg.ID} size={msg.Size} />;
      break;
    case 'attachments':
      panel = <AttachmentsTab msg={msg} />;
      break;
    case 'envelope':
      panel = <EnvelopeTab msg={msg} />;
      break;
    case 'routing':
      panel = <RoutingTab msg={msg} />;
      break;
    case 'spam':
      panel = <SpamTab id={msg.ID} config={p.webui} />;
      break;
    case 'links':
      panel = <LinksTab id={msg.ID} />;
      break;
    case 'htmlcheck':
      panel = <HtmlCheckTab id={msg.ID} />;
      break;
  }

  return (
    <>
      <header class="msg-head">
        <h1 class="msg-subject">
          {msg.Subject ? <SafeText text={msg.Subject} max={1000} /> : <em class="muted">(no subject)</em>}
        </h1>
        <div class="msg-from-row">
          <Avatar a={msg.From} />
          <div class="msg-people">
            <div class="msg-from">
              {msg.From ? (
                <>
                  <strong>
                    <SafeText text={addressLabel(msg.From)} max={200} />
                  </strong>
                  {msg.From.Name.trim() && (
                    <span class="addr-email">
                      {' '}
                      &lt;
                      <SafeText text={msg.From.Address} max={200} />
                      &gt;
                    </span>
                  )}
                </>
              ) : (
                <em class="muted">(no sender)</em>
              )}
            </div>
            <AddressList label="To" list={msg.To} />
            <AddressList label="Cc" list={msg.Cc} />
            <AddressList label="Bcc" list={msg.Bcc} />
            <AddressList label="Reply-To" list={msg.ReplyTo} />
          </div>
          <time class="msg-date" dateTime={msg.Date} title={msg.Date}>
            {formatFullTime(msg.Date)}
            {rel && <span class="muted"> ({rel})</span>}
          </time>
        </div>
        <TagEditor tags={msg.Tags ?? []} all={p.allTags} onChange={p.onSetTags} onTagClick={p.onTagClick} />
        {msg.ParseState === 'failed' && (
          <div class="banner banner-error" role="alert">
            <IconAlert size={16} />
            <span>
              This message could not be parsed{msg.ParseError ? `: ${msg.ParseError}` : '.'} The Raw tab shows
              it as received.
            </span>
          </div>
        )}
      </header>
      <div class="tabs-row">
        <div class="tabs" role="tablist" aria-label="Message views" onKeyDown={onTabKey}>
          {TAB_ORDER.map((t) => {
            const enabled = avail.includes(t);
            return (
              <button
                key={t}
                ref={(el) => {
                  tabRefs.current[t] = el;
                }}
                type="button"
                role="tab"
                id={`tab-${t}`}
                aria-selected={t === tab}
                aria-controls="tabpanel"
                tabIndex={t === tab ? 0 : -1}
                disabled={!enabled}
                title={enabled ? undefined : 'This message has no HTML part'}
                class={`tab ${t === tab ? 'active' : ''}`}
                onClick={() => p.onTab(t)}
              >
                {TAB_LABEL[t]}
                {t === 'attachments' && attCount > 0 && <span class="count">{formatCount(attCount)}</span>}
              </button>
            );
          })}
        </div>
      </div>
      <div class={`tabpanel tabpanel-${tab}`} id="tabpanel" role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {panel}
      </div>
    </>
  );
}
