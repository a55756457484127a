// Actions over the list: select loaded rows, mark read/unread, delete the selection; with
// nothing selected, mark everything read or delete everything (confirmed).
import { formatCount } from '../format.ts';
import { IconCheck, IconMail, IconMailOpen, IconTrash, IconX } from './Icons.tsx';

interface Props {
  total: number;
  loaded: boolean;
  query: string;
  selectedCount: number;
  allLoadedSelected: boolean;
  hideDeleteAll: boolean;
  onSelectAll(): void;
  onClearSelection(): void;
  onMarkRead(read: boolean): void;
  onDelete(): void;
  onMarkAllRead(): void;
  onDeleteAll(): void;
}

export function ListToolbar(p: Props) {
  const has = p.selectedCount > 0;
  return (
    <div class="list-toolbar" role="toolbar" aria-label="Message actions">
      <input
        type="checkbox"
        class="check-all"
        ref={(el) => {
          if (el) el.indeterminate = has && !p.allLoadedSelected;
        }}
        checked={has && p.allLoadedSelected}
        aria-label="Select all loaded messages"
        title="Select all loaded messages"
        onClick={p.onSelectAll}
        disabled={p.total === 0}
      />
      {has ? (
        <>
          <span class="tb-count" aria-live="polite">
            {formatCount(p.selectedCount)} selected
          </span>
          <span class="spacer" />
          <button type="button" class="icon-btn" onClick={() => p.onMarkRead(true)} title="Mark read">
            <IconMailOpen />
            <span class="sr-only">Mark selected read</span>
          </button>
          <button type="button" class="icon-btn" onClick={() => p.onMarkRead(false)} title="Mark unread">
            <IconMail />
            <span class="sr-only">Mark selected unread</span>
          </button>
          <button type="button" class="icon-btn danger" onClick={p.onDelete} title="Delete selected">
            <IconTrash />
            <span class="sr-only">Delete selected</span>
          </button>
          <button type="button" class="icon-btn" onClick={p.onClearSelection} title="Clear selection (Esc)">
            <IconX />
            <span class="sr-only">Clear selection</span>
          </button>
        </>
      ) : (
        <>
          <span class="tb-count" data-testid="list-count">
            {p.loaded
              ? `${formatCount(p.total)} ${p.query ? (p.total === 1 ? 'match' : 'matches') : p.total === 1 ? 'message' : 'messages'}`
              : 'Loading…'}
          </span>
          <span class="spacer" />
          <button
            type="button"
            class="icon-btn"
            onClick={p.onMarkAllRead}
            title="Mark all read"
            disabled={p.total === 0 || p.query !== ''}
          >
            <IconCheck />
            <span class="sr-only">Mark all read</span>
          </button>
          {!p.hideDeleteAll && (
            <button
              type="button"
              class="icon-btn danger"
              onClick={p.onDeleteAll}
              title={p.query ? 'Delete all matching messages' : 'Delete all messages'}
              disabled={p.total === 0}
            >
              <IconTrash />
              <span class="sr-only">{p.query ? 'Delete all matching messages' : 'Delete all messages'}</span>
            </button>
          )}
        </>
      )}
    </div>
  );
}
