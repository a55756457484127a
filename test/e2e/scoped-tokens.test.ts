// Scoped API tokens as an operator configures them (one --http-tokens list, scopes joined by +).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';

describe('scoped API tokens', () => {
  const dir = tempDir();
  const sender = randomBytes(18).toString('hex');
  const reader = randomBytes(18).toString('hex');
  let server: RunningMailroom;
  let base: string;

  before(async () => {
    server = await spawnMailroom([
      '--data-dir',
      dir,
      '--http-tokens',
      `${sender}:send,${reader}:read+manage`,
    ]);
    base = `http://127.0.0.1:${server.httpPort}`;
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  it('lets the sending token send and nothing else, and the reading token read', async () => {
    const message = {
      From: { Email: 'app@shop.example' },
      To: [{ Email: 'ann@one.example' }],
      Subject: 'scoped',
      Text: 'x',
    };
    const sent = await call(sender, 'POST', '/api/v1/send', message);
    assert.equal(sent.status, 200);
    const { ID } = (await sent.json()) as { ID: string };
    assert.equal((await call(sender, 'GET', `/api/v1/message/${ID}`)).status, 403);
    assert.equal((await call(sender, 'DELETE', '/api/v1/messages')).status, 403);
    const read = await call(reader, 'GET', `/api/v1/outbound/${ID}`);
    assert.equal(read.status, 200);
    assert.equal(((await read.json()) as { Source: string }).Source, 'api');
    assert.equal((await call(reader, 'POST', '/api/v1/send', message)).status, 403);
  });
});
