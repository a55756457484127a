#!/usr/bin/env node
// Entry for `npx mailroom`: Node 24 runs the TypeScript sources directly (type stripping).
// Plain JavaScript on purpose: it runs before any TypeScript is loaded. Why each step is here:
// docs/adr/0007-memory-budget.md.
import module from 'node:module';

// 1. The compile cache keeps each module's stripped JavaScript (and V8's code cache) on disk, keyed
// by the source's hash. Without it every thread (main, parse workers, SQLite writer) instantiates
// Node's WebAssembly type stripper, about 12 MB per thread that is never given back; with it only
// the first start after an upgrade pays that. Workers inherit it through the environment.
// NODE_COMPILE_CACHE picks the directory and NODE_DISABLE_COMPILE_CACHE turns it off (Node's own).
const cache = module.enableCompileCache?.();
if (cache?.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;

// 2. A server needs V8 settings that only exist as command-line flags, read when the isolate is
// created: a young generation capped at 16 MiB (V8 otherwise grows it to 128 MiB on a busy main
// thread and keeps it) and the `gc` that src/runtime/idle-gc.ts calls once a burst is over. When
// they are missing, the process replaces itself (execve: same pid, same stdio, no wrapper process)
// with one that has them. glibc's malloc also gets a fixed mmap threshold, so the large buffers of
// a burst go back to the system when freed instead of staying in the heap. Flags or a
// GLIBC_TUNABLES given by the operator win; MAILROOM_NO_REEXEC=1 skips this step.
const SERVER_FLAGS = ['--max-semi-space-size=8', '--expose-gc'];
const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=131072';

function missingFlags() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) =>
    f.split('=')[0].replaceAll('_', '-'),
  );
  return SERVER_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
}

if (
  process.argv[2] === 'start' &&
  process.platform !== 'win32' &&
  typeof process.execve === 'function' &&
  process.env.MAILROOM_NO_REEXEC !== '1'
) {
  const missing = missingFlags();
  if (missing.length > 0) {
    const env = { ...process.env, MAILROOM_NO_REEXEC: '1' };
    if (process.platform === 'linux' && !env.GLIBC_TUNABLES) env.GLIBC_TUNABLES = MALLOC_TUNABLES;
    process.execve(
      process.execPath,
      [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
      env,
    );
  }
}

await import('../src/main.ts');
