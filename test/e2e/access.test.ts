// Access on a real process: a server reachable beyond loopback refuses to start without
// credentials; with a token it requires it; a loopback server refuses DNS-rebinding host names.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/backends.ts';
import { BIN, spawnMailroom } from '../helpers/process.ts';

/** A request with a chosen Host header (fetch does not allow setting it). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('HTTP access', () => {
  it('refuses to listen beyond loopback without credentials', () => {
    const dataDir = tempDir();
    const run = spawnSync(
      process.execPath,
      [BIN, 'start', '--data-dir', dataDir, '--smtp-listen', '127.0.0.1:0', '--http-listen', '0.0.0.0:0'],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--http-auth-file/);
    assert.match(run.stderr, /--http-allow-unauthenticated/);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('requires the token when one is configured', async () => {
    const dataDir = tempDir();
    const token = 'a-long-enough-test-token-0123456789';
    const server = await spawnMailroom(['--data-dir', dataDir, '--http-tokens', token]);
    try {
      assert.equal(await get(server.httpPort, '/api/v1/messages'), 401);
      assert.equal(
        await get(server.httpPort, '/api/v1/messages', {
          Authorization: 'Bearer wrong-token-wrong-token-wrong',
        }),
        401,
      );
      assert.equal(await get(server.httpPort, '/api/v1/messages', { Authorization: `Bearer ${token}` }), 200);
      assert.equal(await get(server.httpPort, '/livez'), 200);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('answers loopback host names only, unless others are allowed', async () => {
    const dataDir = tempDir();
    const server = await spawnMailroom(['--data-dir', dataDir, '--http-allowed-hosts', 'mail.test']);
    try {
      assert.equal(await get(server.httpPort, '/api/v1/info', { Host: `localhost:${server.httpPort}` }), 200);
      assert.equal(await get(server.httpPort, '/api/v1/info', { Host: 'mail.test' }), 200);
      assert.equal(await get(server.httpPort, '/api/v1/info', { Host: 'rebind.attacker.example' }), 421);
    } finally {
      await server.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
