// Types for code that runs in the browser through page.evaluate(). The test programs are checked
// against Node's libraries only (no DOM lib, which would change Node's timer types for all of
// src/), so each browser test declares the few page globals it touches, loosely, with this type.

/** A value that lives in the page (document, window, an element), typed loosely on purpose. */
// biome-ignore lint/suspicious/noExplicitAny: page objects are checked by the browser, not by tsc.
export type PageValue = any;
