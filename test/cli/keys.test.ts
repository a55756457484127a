// `mailroom keys`, as an operator runs it: the first key made on the store before any HTTP
// credentials exist, then used against a server reachable beyond loopback that has no others.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/backends.ts';
import { BIN, type RunningMailroom, spawnMailroom } from '../helpers/process.ts';

const KEY_FORMAT = /^mr_([0-9A-Za-z]{22})_[A-Za-z0-9_-]{43}$/;

function mailroom(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env } });
}

describe('mailroom keys', () => {
  const dir = tempDir();
  let sendKey = '';
  let sendKeyId = '';
  let server: RunningMailroom | undefined;
  let base = '';

  before(() => {
    const made = mailroom(['keys', 'create', '--name', 'shop app', '--scopes', 'send', '--data-dir', dir]);
    assert.equal(made.status, 0, made.stderr);
    sendKey = made.stdout.trim();
    const m = KEY_FORMAT.exec(sendKey);
    assert.ok(m, made.stdout);
    sendKeyId = m[1]!;
    assert.match(made.stderr, /shown this once only/);
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = (token: string | null, method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it('lists the key without its secret', () => {
    const r = mailroom(['keys', 'list', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${sendKeyId}  active   send .* shop app\\n$`));
    assert.ok(!r.stdout.includes(sendKey.slice(-43)));
    const listed = JSON.parse(mailroom(['keys', 'list', '--json', '--data-dir', dir]).stdout) as {
      id: string;
      scopes: string[];
      state: string;
    }[];
    assert.deepEqual(
      listed.map((k) => [k.id, k.scopes, k.state]),
      [[sendKeyId, ['send'], 'active']],
    );
  });

  it('lets the key alone serve as credentials of a server reachable beyond loopback', async () => {
    server = await spawnMailroom(['--data-dir', dir, '--http-listen', '0.0.0.0:0']);
    base = `http://127.0.0.1:${server.httpPort}`;
    assert.equal((await call(null, 'GET', '/api/v1/messages')).status, 401);
    const message = { From: { Email: 'app@shop.example' }, To: [{ Email: 'ann@one.example' }], Subject: 's' };
    const sent = await call(sendKey, 'POST', '/api/v1/send', message);
    assert.equal(sent.status, 200, await sent.clone().text());
    assert.equal((await call(sendKey, 'GET', '/api/v1/messages')).status, 403);
    assert.equal((await call(sendKey, 'GET', '/api/v1/keys')).status, 403);
  });

  it('makes a managing key that works at once, and revokes a key the server has not yet seen', async () => {
    assert.ok(server, 'the server of the test before');
    const made = mailroom([
      'keys',
      'create',
      '--name',
      'ops',
      '--scopes',
      'read,manage',
      '--expires',
      '30d',
      '--json',
      '--data-dir',
      dir,
    ]);
    assert.equal(made.status, 0, made.stderr);
    const ops = JSON.parse(made.stdout) as { key: string; id: string; expiresAt: string };
    assert.match(ops.key, KEY_FORMAT);
    const days = (Date.parse(ops.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 29 && days <= 30, ops.expiresAt);
    const keys = (await (await call(ops.key, 'GET', '/api/v1/keys')).json()) as { keys: { ID: string }[] };
    assert.deepEqual(keys.keys.map((k) => k.ID).sort(), [ops.id, sendKeyId].sort());

    const spare = mailroom(['keys', 'create', '--name', 'spare', '--scopes', 'read', '--data-dir', dir]);
    const spareKey = spare.stdout.trim();
    const spareId = KEY_FORMAT.exec(spareKey)![1]!;
    const revoked = mailroom(['keys', 'revoke', spareId, 'NoSuchKeyXXXXXXXXXXXXX', '--data-dir', dir]);
    assert.equal(revoked.status, 1);
    assert.equal(revoked.stdout, `${spareId}: revoked\nNoSuchKeyXXXXXXXXXXXXX: no such key\n`);
    assert.equal((await call(spareKey, 'GET', '/api/v1/messages')).status, 401);
  });

  it('refuses bad input with usage and exit 2', () => {
    const noScopes = mailroom(['keys', 'create', '--name', 'x', '--data-dir', dir]);
    assert.equal(noScopes.status, 2);
    assert.match(noScopes.stderr, /--scopes is required/);
    const unknown = mailroom(['keys', 'create', '--name', 'x', '--scopes', 'send,admin', '--data-dir', dir]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown scope "admin"/);
    const past = mailroom(['keys', 'create', '--name', 'x', '--scopes', 'send', '--expires', '2001-01-01']);
    assert.equal(past.status, 2);
    assert.match(past.stderr, /not in the future/);
    assert.equal(mailroom(['keys', 'explode', '--data-dir', dir]).status, 2);
    assert.match(mailroom(['keys', 'help']).stdout, /mailroom keys revoke <key-id>/);
  });
});
