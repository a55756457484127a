// dkimpy (Debian package python3-dkim) as an independent DKIM verifier, with its DNS lookup
// answered by the test. A missing verifier fails the tests that use it: they are never skipped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const VERIFY_SCRIPT = fileURLToPath(new URL('./dkim-verify.py', import.meta.url));
/** The interpreter of the installed `dkimverify` (its shebang), else python3, if it can import dkim. */
function findVerifier(): string[] {
  const candidates: string[][] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      const first = fs.readFileSync(path.join(dir, 'dkimverify'), 'utf8').split('\n')[0] ?? '';
      if (first.startsWith('#!')) candidates.push(first.slice(2).trim().split(/\s+/));
    } catch {
      // Not in this directory of PATH.
    }
  }
  candidates.push(['python3']);
  for (const [cmd, ...args] of candidates) {
    if (spawnSync(cmd!, [...args, '-c', 'import dkim'], { stdio: 'ignore' }).status === 0)
      return [cmd!, ...args];
  }
  assert.fail('no Python can import the dkim module: install the Debian package python3-dkim');
}

let verifier: string[] | undefined;

/** Runs dkimpy on a message, with DNS answering `record` at its owner name only. */
export function verify(message: Uint8Array, record: { name: string; value: string }) {
  verifier ??= findVerifier();
  const [cmd, ...args] = verifier;
  const run = spawnSync(cmd!, [...args, VERIFY_SCRIPT, record.name, record.value], { input: message });
  assert.equal(run.status, 0, `verifier failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString()) as { ok: boolean; queried: string[]; log: string };
}
