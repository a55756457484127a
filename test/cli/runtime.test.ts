// How `mailroom start` sets up its own process: V8 flags (young-generation cap, the collector the
// idle collection uses) applied by replacing the process in place, and collections once idle.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';
import { LineClient } from '../helpers/smtp-client.ts';

/** Whether the dynamic linker knows a jemalloc (setup.sh installs Debian's libjemalloc2). */
function systemHasJemalloc(): boolean {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = spawnSync(ldconfig, ['-p'], { encoding: 'utf8' });
    if (r.status === 0) return /libjemalloc\.so\.2 /.test(r.stdout);
  }
  return false;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-runtime-'));

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `metric ${name} is exported`);
  return Number(line.split(' ')[1]);
}

describe('mailroom start: process set-up', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let server: RunningMailroom;

  before(async () => {
    server = await spawnMailroom(['--data-dir', dataDir]);
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs with the server flags in the same process it was started as', () => {
    const argv = fs.readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(argv.includes('--expose-gc'), argv.join(' '));
    for (const flag of ['--max-semi-space-size=', '--heap-growing-percent='])
      assert.ok(
        argv.some((a) => a.startsWith(flag)),
        argv.join(' '),
      );
    assert.ok(argv.includes('start'));
    const env = fs.readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0');
    const maps = fs.readFileSync(`/proc/${server.child.pid}/maps`, 'utf8');
    if (systemHasJemalloc()) {
      // Preloaded, with the background thread that returns freed pages.
      assert.match(maps, /libjemalloc\.so\.2/);
      assert.ok(env.some((e) => e.startsWith('MALLOC_CONF=') && e.includes('background_thread:true')));
    } else {
      assert.doesNotMatch(maps, /libjemalloc/);
      assert.ok(env.some((e) => e.startsWith('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=')));
    }
    assert.ok(
      env.some((e) => e.startsWith('NODE_COMPILE_CACHE=')),
      'workers inherit the compile cache',
    );
  });

  it('collects garbage once start-up is over, and again once a burst of mail is over', async () => {
    // Start-up counts as a busy stretch: its first quiet period collects.
    let before = 0;
    for (let i = 0; i < 300 && before === 0; i++) {
      before = await metric(server.httpPort, 'mailroom_idle_gc_total');
      if (before === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(before >= 1, 'the main thread collected after start-up');
    const client = await LineClient.connect(server.smtpPort);
    assert.equal((await client.read()).code, 220);
    assert.equal((await client.command('EHLO burst.example')).code, 250);
    const filler = 'All work and no play makes a dull message. '.repeat(400);
    for (let i = 0; i < 400; i++) {
      const reply = await client.send(
        'app@burst.example',
        ['qa@burst.example'],
        `Subject: burst ${i}\r\n\r\n${filler}${i}\r\n`,
      );
      assert.equal(reply.code, 250, reply.text);
    }
    assert.equal((await client.command('QUIT')).code, 221);
    client.close();
    let collections = before;
    for (let i = 0; i < 300 && collections === before; i++) {
      collections = await metric(server.httpPort, 'mailroom_idle_gc_total');
      if (collections === before) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(collections > before, 'the main thread ran an idle collection after the burst');
    assert.ok((await metric(server.httpPort, 'process_resident_memory_bytes')) > 0);
  });
});

describe('mailroom start with the V8 flags already given', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, () => {
  it('still sets up the allocator, replacing the process once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-runtime-flags-'));
    const server = await spawnMailroom(['--data-dir', dir], {}, 20_000, [
      '--max-semi-space-size=16',
      '--heap-growing-percent=50',
      '--expose-gc',
    ]);
    try {
      const argv = fs.readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0');
      assert.equal(argv.filter((a) => a === '--expose-gc').length, 1, argv.join(' '));
      const env = fs.readFileSync(`/proc/${server.child.pid}/environ`, 'utf8').split('\0');
      const maps = fs.readFileSync(`/proc/${server.child.pid}/maps`, 'utf8');
      if (systemHasJemalloc()) assert.match(maps, /libjemalloc\.so\.2/);
      else assert.ok(env.some((e) => e.startsWith('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=')));
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
