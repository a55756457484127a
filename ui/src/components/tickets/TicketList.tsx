// The tickets list: filter chips for the state, a search, an assignee filter, and one row per
// ticket (key, subject, requester, state, assignee, tags, last update). Rows are buttons; the
// cursor (j/k) is drawn like the inbox's.
import { useEffect, useRef } from 'preact/hooks';
import { addressLabel, formatListTime } from '../../format.ts';
import type { Ticket, TicketFilter, TicketState } from '../../types.ts';
import { TICKET_STATES } from '../../types.ts';
import { IconSearch, IconTag, IconX } from '../Icons.tsx';
import { SafeText } from '../SafeText.tsx';

export const STATE_LABEL: Record<TicketState, string> = {
  open: 'Open',
  pending: 'Pending',
  solved: 'Solved',
  closed: 'Closed',
};

export function StateBadge({ state }: { state: TicketState }) {
  return <span class={`badge state-badge state-${state}`}>{STATE_LABEL[state]}</span>;
}

interface FilterProps {
  filter: TicketFilter;
  searchRef: { current: HTMLInputElement | null };
  onFilter(f: TicketFilter): void;
}

export function TicketFilters({ filter, searchRef, onFilter }: FilterProps) {
  const toggle = (s: TicketState) => {
    const has = filter.states.includes(s);
    const states = has ? filter.states.filter((x) => x !== s) : [...filter.states, s];
    onFilter({ ...filter, states: TICKET_STATES.filter((x) => states.includes(x)) });
  };
  const mode = filter.assignee === null ? 'all' : filter.assignee === '' ? 'none' : 'named';
  return (
    <div class="tk-filters">
      <div class="tk-filter-row">
        <search class="tk-search">
          <IconSearch size={15} />
          <input
            ref={searchRef}
            type="search"
            class="tk-search-input"
            aria-label="Search tickets"
            placeholder="Search tickets"
            value={filter.query}
            maxLength={500}
            onInput={(e) => onFilter({ ...filter, query: (e.currentTarget as HTMLInputElement).value })}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.stopPropagation();
                if (filter.query) onFilter({ ...filter, query: '' });
                else (e.currentTarget as HTMLInputElement).blur();
              }
            }}
          />
        </search>
        <select
          class="input input-select"
          aria-label="Assignee"
          value={mode}
          onChange={(e) => {
            const v = (e.currentTarget as HTMLSelectElement).value;
            onFilter({
              ...filter,
              assignee: v === 'all' ? null : v === 'none' ? '' : (filter.assignee ?? '') || ' ',
            });
          }}
        >
          <option value="all">Anyone</option>
          <option value="none">Unassigned</option>
          <option value="named">Assigned to…</option>
        </select>
      </div>
      <fieldset class="tk-states" aria-label="States">
        {TICKET_STATES.map((s) => (
          <button
            key={s}
            type="button"
            class={`tk-chip state-${s} ${filter.states.includes(s) ? 'on' : ''}`}
            aria-pressed={filter.states.includes(s)}
            onClick={() => toggle(s)}
          >
            {STATE_LABEL[s]}
          </button>
        ))}
      </fieldset>
      {mode === 'named' && (
        <input
          class="input tk-assignee-filter"
          aria-label="Assigned to"
          placeholder="Agent name"
          value={filter.assignee?.trim() ?? ''}
          maxLength={200}
          ref={(el) => {
            if (el && filter.assignee === ' ') el.focus();
          }}
          onInput={(e) =>
            onFilter({ ...filter, assignee: (e.currentTarget as HTMLInputElement).value || ' ' })
          }
        />
      )}
      {filter.tag && (
        <div class="tk-tag-filter">
          <IconTag size={14} />
          <span class="chip chip-lg">
            <span class="chip-main">
              <SafeText text={filter.tag} max={60} />
            </span>
            <button
              type="button"
              class="chip-x"
              aria-label={`Stop filtering by ${filter.tag}`}
              onClick={() => onFilter({ ...filter, tag: '' })}
            >
              <IconX size={12} />
            </button>
          </span>
        </div>
      )}
    </div>
  );
}

interface ListProps {
  tickets: Ticket[] | null;
  total: number;
  cursor: number;
  openKey: string | null;
  filtered: boolean;
  /** A desk's intake address, for the empty list. */
  intake: string | null;
  onOpen(index: number): void;
  /** Fetches the next page of tickets. */
  onMore(): void;
}

export function TicketRows({ tickets, total, cursor, openKey, filtered, intake, onOpen, onMore }: ListProps) {
  const scroller = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    const row = scroller.current?.querySelector<HTMLElement>(`[data-index="${cursor}"]`);
    row?.scrollIntoView({ block: 'nearest' });
  }, [cursor]);
  if (tickets === null) {
    return (
      <div class="tk-rows" aria-busy="true">
        {[0, 1, 2].map((i) => (
          <div key={i} class="tk-row placeholder">
            <div class="sk sk-a" />
            <div class="sk sk-b" />
          </div>
        ))}
      </div>
    );
  }
  if (tickets.length === 0) {
    return (
      <div class="tk-rows">
        <div class="tk-empty-list">
          <p class="empty-title">{filtered ? 'No tickets match' : 'No tickets yet'}</p>
          <p class="empty-sub">
            {filtered
              ? 'Try other states, another assignee or fewer words.'
              : `Mail to ${intake ?? 'a desk’s intake address'} opens a ticket.`}
          </p>
        </div>
      </div>
    );
  }
  return (
    <div
      class="tk-rows list-scroll"
      ref={scroller}
      tabIndex={0}
      role="listbox"
      aria-label="Tickets"
      aria-activedescendant={cursor >= 0 ? `tk-row-${cursor}` : undefined}
    >
      {tickets.map((t, i) => {
        const open = openKey !== null && (t.Key === openKey || t.ID === openKey);
        return (
          // The listbox owns focus and points at its rows with aria-activedescendant (the screen's
          // keyboard handler moves and opens), so a row needs neither focus nor key handlers.
          // biome-ignore lint/a11y/useFocusableInteractive: see above.
          // biome-ignore lint/a11y/useKeyWithClickEvents: see above.
          <div
            key={t.ID}
            id={`tk-row-${i}`}
            role="option"
            aria-selected={open}
            data-index={i}
            data-key={t.Key}
            class={`tk-row ${open ? 'open' : ''} ${i === cursor ? 'cursor' : ''}`}
            onClick={() => onOpen(i)}
          >
            <div class="tk-row-top">
              <span class="tk-key">{t.Key}</span>
              <StateBadge state={t.State} />
              <time class="tk-time" dateTime={t.UpdatedAt} title={new Date(t.UpdatedAt).toLocaleString()}>
                {formatListTime(t.UpdatedAt)}
              </time>
            </div>
            <div class="tk-subject">
              <SafeText text={t.Subject || '(no subject)'} max={200} />
            </div>
            <div class="tk-row-meta">
              <span class="tk-requester">
                <SafeText text={addressLabel(t.Requester)} max={80} />
              </span>
              <span class={`tk-assignee ${t.Assignee ? '' : 'none'}`}>
                {t.Assignee ? <SafeText text={t.Assignee} max={40} /> : 'Unassigned'}
              </span>
              {t.Tags.slice(0, 3).map((tag) => (
                <span key={tag} class="chip tk-tag">
                  <SafeText text={tag} max={30} />
                </span>
              ))}
            </div>
          </div>
        );
      })}
      {total > tickets.length && (
        <div class="tk-more">
          <span class="muted">
            The {tickets.length} most recently updated of {total}
          </span>
          <button type="button" class="btn btn-small" data-testid="tickets-more" onClick={onMore}>
            Show more
          </button>
        </div>
      )}
    </div>
  );
}
