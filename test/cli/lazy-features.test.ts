// Optional features' libraries load only when configured or first used, so a plain server's main
// thread does not carry them (every full collection marks the whole heap; ADR 0016). A module
// hook records every file the main thread loads while the server starts and takes a message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/backends.ts';
import { spawnMailroom } from '../helpers/process.ts';

const dir = tempDir('mailroom-lazy-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const HOOK = path.join(dir, 'record-loads.mjs');
fs.writeFileSync(
  HOOK,
  `import fs from 'node:fs';
import { registerHooks } from 'node:module';
const out = process.env.MAILROOM_TEST_LOADS;
registerHooks({
  load(url, context, next) {
    if (out) fs.appendFileSync(out, url + '\\n');
    return next(url, context);
  },
});
`,
);

/** Optional packages, by the feature that needs them. */
const OPTIONAL = ['mailauth', 'imapflow', 'handlebars', 'liquidjs', 'amqplib', '@nats-io'];

/** One SMTP conversation: a message to the MX listener, answered 250 after DATA. */
async function sendOne(port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let buffered = '';
  const reply = () =>
    new Promise<string>((resolve, reject) => {
      const look = () => {
        const m = /^(\d{3}) [^\n]*\n/m.exec(buffered);
        if (!m) return;
        buffered = buffered.slice(m.index + m[0].length);
        socket.off('data', onData);
        resolve(m[1]!);
      };
      const onData = (d: string) => {
        buffered += d;
        look();
      };
      socket.on('data', onData);
      socket.once('error', reject);
      look();
    });
  const say = async (line: string, want: string) => {
    socket.write(`${line}\r\n`);
    assert.equal(await reply(), want, line);
  };
  assert.equal(await reply(), '220');
  await say('EHLO client.example.test', '250');
  await say('MAIL FROM:<a@example.test>', '250');
  await say('RCPT TO:<b@example.test>', '250');
  await say('DATA', '354');
  await say('Subject: lazy\r\n\r\nbody\r\n.', '250');
  socket.end('QUIT\r\n');
}

async function loadedPackages(args: string[], name: string, send = true): Promise<Set<string>> {
  const log = path.join(dir, `${name}.loads`);
  const server = await spawnMailroom(
    ['--data-dir', path.join(dir, name), ...args],
    { MAILROOM_TEST_LOADS: log },
    20_000,
    ['--import', pathToFileURL(HOOK).href],
  );
  try {
    if (send) {
      await sendOne(server.smtpPort);
      // Parsed and listed: the whole ingest path has run.
      let listed = false;
      for (let i = 0; i < 100 && !listed; i++) {
        const list = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/messages`)).json()) as {
          messages: { Subject: string }[];
        };
        listed = list.messages[0]?.Subject === 'lazy';
        if (!listed) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(listed, 'the message was parsed and listed');
    }
  } finally {
    await server.stop();
  }
  const found = new Set<string>();
  for (const url of fs.readFileSync(log, 'utf8').split('\n')) {
    for (const pkg of OPTIONAL) if (url.includes(`/node_modules/${pkg}/`)) found.add(pkg);
  }
  return found;
}

describe('optional features load on demand', () => {
  it('a server with default settings takes a message without loading any of them', async () => {
    assert.deepEqual([...(await loadedPackages([], 'plain'))], []);
  });

  it('sender checks (--local-domains) load mailauth at start', async () => {
    const found = await loadedPackages(['--local-domains', 'example.test'], 'checks', false);
    assert.ok(found.has('mailauth'), [...found].join(', '));
  });
});
