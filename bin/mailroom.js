#!/usr/bin/env node
// Entry for `npx mailroom`: Node 24 runs the TypeScript sources directly (type stripping).
// Plain JavaScript on purpose: it runs before any TypeScript is loaded. Why each step is here:
// docs/adr/0007-memory-budget.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import module from 'node:module';

// 1. The compile cache keeps each module's stripped JavaScript (and V8's code cache) on disk, keyed
// by the source's hash. Without it every thread (main, parse workers, SQLite writer) instantiates
// Node's WebAssembly type stripper, about 12 MB per thread that is never given back; with it only
// the first start after an upgrade pays that. Workers inherit it through the environment.
// NODE_COMPILE_CACHE picks the directory and NODE_DISABLE_COMPILE_CACHE turns it off (Node's own).
const cache = module.enableCompileCache?.();
if (cache?.directory && !process.env.NODE_COMPILE_CACHE) process.env.NODE_COMPILE_CACHE = cache.directory;

// 2. A server needs V8 settings that only exist as command-line flags, read when the isolate is
// created: a young generation capped at 48 MiB (16 MiB semi-spaces; V8 otherwise grows it to
// 128 MiB on a busy main thread and keeps it; 8 MiB made an ingest burst's in-flight objects
// outlive their scavenges, and the full collections that followed cost ~10 % of ingest throughput,
// docs/performance.md), an old generation that grows by its live size between full collections
// (V8 otherwise lets a small heap grow to four times its live size: a 20 MB heap reached 80 MB
// under a stream of API requests; half its live size made the ~21 MB heap of a server without
// optional features collect every ~130 messages of 100 KB, ADR 0016), and the `gc` that src/runtime/idle-gc.ts calls
// once a burst is over. When they or the allocator below are missing, the process replaces itself
// (execve: same pid, same stdio, no wrapper process) with one that has them.
//
// 3. The allocator. glibc's malloc keeps what a burst freed (about 90 MB after 50,000 messages on
// PostgreSQL, measured with malloc_trim from gdb) and only a malloc_trim call, which JavaScript
// cannot make, gives it back. On Linux, when the system has jemalloc (Debian: libjemalloc2), the
// replaced process preloads it with a background thread that returns freed pages within a second;
// otherwise glibc gets a fixed mmap threshold, so at least large buffers go back when freed.
// An LD_PRELOAD, MALLOC_CONF or GLIBC_TUNABLES set by the operator wins; MAILROOM_MALLOC=system
// keeps glibc; MAILROOM_NO_REEXEC=1 skips this whole step.
const SERVER_FLAGS = ['--max-semi-space-size=16', '--heap-growing-percent=100', '--expose-gc'];
const GLIBC_TUNABLES = 'glibc.malloc.mmap_threshold=131072';
const JEMALLOC_CONF = 'background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:2';

function missingFlags() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) =>
    f.split('=')[0].replaceAll('_', '-'),
  );
  return SERVER_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
}

/** The system's jemalloc, as the dynamic linker's cache names it, or null. */
function findJemalloc() {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      const out = execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const line = out
        .split('\n')
        .find(
          (l) =>
            l.trim().startsWith('libjemalloc.so.2 ') && l.includes('x86-64') === (process.arch === 'x64'),
        );
      const path = line?.split(' => ')[1]?.trim();
      return path && existsSync(path) ? path : null;
    } catch {}
  }
  return null;
}

function allocatorEnv(env) {
  if (process.platform !== 'linux' || env.LD_PRELOAD || env.MALLOC_CONF || env.GLIBC_TUNABLES) return {};
  const jemalloc = env.MAILROOM_MALLOC === 'system' ? null : findJemalloc();
  if (jemalloc) return { LD_PRELOAD: jemalloc, MALLOC_CONF: JEMALLOC_CONF };
  return { GLIBC_TUNABLES };
}

if (
  process.argv[2] === 'start' &&
  process.platform !== 'win32' &&
  typeof process.execve === 'function' &&
  process.env.MAILROOM_NO_REEXEC !== '1'
) {
  // Flags given on the command line or in NODE_OPTIONS still leave the allocator to set up.
  const missing = missingFlags();
  const allocator = allocatorEnv(process.env);
  if (missing.length > 0 || Object.keys(allocator).length > 0) {
    const env = { ...process.env, MAILROOM_NO_REEXEC: '1', ...allocator };
    process.execve(
      process.execPath,
      [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
      env,
    );
  }
}

await import('../src/main.ts');
