// The top bar: brand, the search box (Mailpit search syntax; "/" focuses it, Enter searches,
// Esc clears) and the help and theme buttons.
import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useMedia } from '../hooks.ts';
import { IconKeyboard, IconMenu, IconMoon, IconSearch, IconSun, IconX } from './Icons.tsx';

interface Props {
  query: string;
  label: string;
  searchRef: RefObject<HTMLInputElement | null>;
  dark: boolean;
  onSearch(q: string): void;
  onHelp(): void;
  onTheme(system: boolean): void;
  onMenu(): void;
}

export function TopBar(p: Props) {
  const [value, setValue] = useState(p.query);
  useEffect(() => setValue(p.query), [p.query]);
  const wide = useMedia('(min-width: 900px)');
  return (
    <header class="topbar">
      <button type="button" class="icon-btn menu-btn" onClick={p.onMenu} title="Mailboxes">
        <IconMenu />
        <span class="sr-only">Show mailboxes</span>
      </button>
      <a
        class="brand"
        href="/"
        onClick={(e) => {
          e.preventDefault();
          p.onSearch('');
        }}
      >
        <img src="/favicon.svg" alt="" width={26} height={26} />
        <span class="brand-name">Mailroom</span>
        {p.label && <span class="brand-label">{p.label}</span>}
      </a>
      <search class="search-wrap">
        <form
          class="search"
          onSubmit={(e) => {
            e.preventDefault();
            p.onSearch(value.trim());
          }}
        >
          <IconSearch size={17} />
          <input
            ref={p.searchRef}
            type="search"
            class="search-input"
            placeholder={wide ? 'Search mail — from:ann subject:invoice is:unread' : 'Search mail'}
            aria-label="Search messages"
            autocomplete="off"
            spellcheck={false}
            value={value}
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.preventDefault();
                e.stopPropagation();
                setValue('');
                if (p.query) p.onSearch('');
                (e.currentTarget as HTMLInputElement).blur();
              }
            }}
          />
          {value ? (
            <button
              type="button"
              class="search-clear"
              title="Clear search"
              onClick={() => {
                setValue('');
                p.onSearch('');
              }}
            >
              <IconX size={15} />
              <span class="sr-only">Clear search</span>
            </button>
          ) : (
            <kbd class="search-hint" title="Press / to search">
              /
            </kbd>
          )}
        </form>
      </search>
      <div class="topbar-actions">
        <button type="button" class="icon-btn" onClick={p.onHelp} title="Keyboard shortcuts (?)">
          <IconKeyboard />
          <span class="sr-only">Keyboard shortcuts</span>
        </button>
        <button
          type="button"
          class="icon-btn"
          data-testid="theme-toggle"
          onClick={(e) => p.onTheme(e.shiftKey)}
          title={`Switch to ${p.dark ? 'light' : 'dark'} theme (Shift+click: follow the system)`}
        >
          {p.dark ? <IconSun /> : <IconMoon />}
          <span class="sr-only">Switch to {p.dark ? 'light' : 'dark'} theme</span>
        </button>
      </div>
    </header>
  );
}
