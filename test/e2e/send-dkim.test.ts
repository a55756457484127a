// DKIM end to end: keys made by `mailroom dkim keygen`, given to a server with --dkim-keys; mail
// sent through the API from the key's domain (or below it) is signed when queued, and dkimpy (an
// independent verifier) accepts the captured bytes against the printed DNS record. Mail from
// other domains goes out unsigned.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/backends.ts';
import { verify } from '../helpers/dkim-verifier.ts';
import { BIN, type RunningMailroom, spawnMailroom } from '../helpers/process.ts';

describe('DKIM signing of sent mail', () => {
  const dir = tempDir();
  const records = new Map<string, { name: string; value: string }>();
  let server: RunningMailroom;
  let base: string;

  before(async () => {
    const entries: string[] = [];
    for (const [domain, selector, algorithm] of [
      ['shop.example', 'ed1', 'ed25519-sha256'],
      ['news.example', 'rsa1', 'rsa-sha256'],
    ] as const) {
      const out = path.join(dir, `${domain}.pem`);
      const r = spawnSync(
        process.execPath,
        [
          BIN,
          'dkim',
          'keygen',
          '--domain',
          domain,
          '--selector',
          selector,
          '--algorithm',
          algorithm,
          '--out',
          out,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      const value = /value: (v=DKIM1;.*)$/m.exec(r.stdout)?.[1];
      assert.ok(value, r.stdout);
      records.set(domain, { name: `${selector}._domainkey.${domain}`, value });
      entries.push(`${domain}:${selector}:${out}`);
    }
    server = await spawnMailroom(['--data-dir', path.join(dir, 'data'), '--dkim-keys', entries.join(',')]);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function sendAndFetch(from: string): Promise<Buffer> {
    const res = await fetch(`${base}/api/v1/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        From: { Email: from, Name: 'Zoë' },
        To: [{ Email: 'ann@one.example' }],
        Subject: 'Votre commande est expédiée',
        Text: 'Hello\n\n\n',
        HTML: '<p>Hello</p>',
      }),
    });
    assert.equal(res.status, 200);
    const { ID } = (await res.json()) as { ID: string };
    return Buffer.from(await (await fetch(`${base}/api/v1/message/${ID}/raw`)).arrayBuffer());
  }

  it('signs mail from a key domain and from below it, each verifying against its record', async () => {
    for (const [from, domain] of [
      ['orders@shop.example', 'shop.example'],
      ['letters@mail.news.example', 'news.example'],
    ] as const) {
      const raw = await sendAndFetch(from);
      assert.match(
        raw.toString('latin1'),
        new RegExp(`^DKIM-Signature: .*d=${domain.replace('.', '\\.')}`, 'm'),
      );
      const result = verify(raw, records.get(domain)!);
      assert.equal(result.ok, true, result.log);
      // A changed byte in the body breaks it.
      const tampered = Buffer.from(raw.toString('latin1').replace('Hello', 'Hellp'), 'latin1');
      assert.equal(verify(tampered, records.get(domain)!).ok, false);
    }
  });

  it('leaves mail from other domains unsigned', async () => {
    const raw = await sendAndFetch('someone@elsewhere.example');
    assert.doesNotMatch(raw.toString('latin1'), /^DKIM-Signature:/m);
  });

  it('refuses to start with a key file that is not a key', () => {
    const bad = path.join(dir, 'bad.pem');
    fs.writeFileSync(bad, 'not a key');
    const r = spawnSync(
      process.execPath,
      [BIN, 'start', '--data-dir', path.join(dir, 'bad'), '--dkim-keys', `x.example:s:${bad}`],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--dkim-keys "x\.example:s:…": the key file does not hold a PEM private key/);
  });
});
