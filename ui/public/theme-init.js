// Sets the theme the user picked (kept in localStorage) before the first paint, so a dark choice
// on a light system does not flash. "system" (or nothing stored) follows prefers-color-scheme.
(() => {
  try {
    const t = localStorage.getItem('mailroom.theme');
    if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
  } catch {
    // Storage may be disabled; the system theme applies.
  }
})();
