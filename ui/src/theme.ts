// Light/dark theme: follows prefers-color-scheme unless the user picked one, which is kept in
// localStorage (public/theme-init.js applies it before first paint).
export type ThemePref = 'system' | 'light' | 'dark';

const KEY = 'mailroom.theme';

export function loadTheme(): ThemePref {
  try {
    const t = localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(pref: ThemePref): void {
  const root = document.documentElement;
  if (pref === 'system') delete root.dataset.theme;
  else root.dataset.theme = pref;
  try {
    if (pref === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, pref);
  } catch {
    // Not remembered; the choice still applies to this page.
  }
}

/** The theme in effect: the pick, or the system's. */
export function effectiveTheme(pref: ThemePref): 'light' | 'dark' {
  if (pref !== 'system') return pref;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** The toggle flips what is on screen: light becomes dark and dark becomes light. */
export function toggledTheme(pref: ThemePref): ThemePref {
  return effectiveTheme(pref) === 'dark' ? 'light' : 'dark';
}
