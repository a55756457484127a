// Shell-style wildcards for route values: `*` any run of characters, `?` one character, nothing
// else special. Matched by the two-pointer method rather than compiled to a regular expression:
// a pattern like `*a*a*a*b` then costs at most pattern × text steps, never exponential backtracking.

/** Whether `text` matches `pattern` as a whole, ignoring case. */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  // Where the last `*` was, and the text position it has swallowed up to.
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    const c = p[pi];
    if (c === '*') {
      star = pi++;
      mark = ti;
    } else if (c !== undefined && (c === '?' || c === t[ti])) {
      pi++;
      ti++;
    } else if (star >= 0) {
      // Let the last `*` take one more character and try again from there.
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}
