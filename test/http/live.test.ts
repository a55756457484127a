// Live updates over WebSocket (/api/events), on a real process: a client sees new mail, read-state
// changes, deletions and stats in Mailpit's frames; a cross-site page cannot open the socket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { tempDir } from '../helpers/backends.ts';
import { type RunningMailroom, spawnMailroom } from '../helpers/process.ts';

interface Frame {
  Type: string;
  Data: Record<string, unknown> | null;
}

/** Collects frames and lets a test wait for the first one that matches. */
function listen(ws: WebSocket) {
  const frames: Frame[] = [];
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Frame;
    frames.push(frame);
    for (const w of waiters.splice(0)) {
      if (w.match(frame)) w.resolve(frame);
      else waiters.push(w);
    }
  });
  return {
    frames,
    next(match: (f: Frame) => boolean, what: string): Promise<Frame> {
      const seen = frames.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${what} frame; got ${JSON.stringify(frames)}`)),
          10_000,
        );
        waiters.push({
          match,
          resolve: (f) => {
            clearTimeout(timer);
            resolve(f);
          },
        });
      });
    },
  };
}

/** Opens a socket with its frame collector attached at once: a frame sent right after the
 * upgrade may arrive in the same read as the handshake, before 'open' listeners run. */
function open(url: string, origin?: string): Promise<{ ws: WebSocket; live: ReturnType<typeof listen> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    const live = listen(ws);
    ws.once('open', () => resolve({ ws, live }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('live updates over WebSocket', () => {
  let server: RunningMailroom;
  const dataDir = tempDir();
  let base: string;

  before(async () => {
    server = await spawnMailroom(['--data-dir', dataDir]);
    base = `127.0.0.1:${server.httpPort}`;
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('announces new mail, updates, deletions and stats', async () => {
    const { ws, live } = await open(`ws://${base}/api/events`, `http://${base}`);
    await live.next((f) => f.Type === 'stats', 'initial stats');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.smtpPort,
      ignoreTLS: true,
    });
    await transport.sendMail({
      from: 'a@example.test',
      to: 'b@example.test',
      subject: 'Live one',
      text: 'hi',
    });
    transport.close();
    const fresh = await live.next((f) => f.Type === 'new', 'new');
    assert.equal(fresh.Data?.Subject, 'Live one');
    const id = String(fresh.Data?.ID);
    await live.next((f) => f.Type === 'stats' && f.Data?.Total === 1, 'stats after new mail');

    await fetch(`http://${base}/api/v1/messages`, {
      method: 'PUT',
      body: JSON.stringify({ IDs: [id], Read: true }),
    });
    const update = await live.next((f) => f.Type === 'update', 'update');
    assert.deepEqual(update.Data, { ID: id, Read: true });

    await fetch(`http://${base}/api/v1/messages`, { method: 'DELETE', body: JSON.stringify({ IDs: [id] }) });
    assert.deepEqual((await live.next((f) => f.Type === 'delete', 'delete')).Data, { ID: id });
    await fetch(`http://${base}/api/v1/messages`, { method: 'DELETE' });
    // Nothing left to delete: no truncate frame is owed, but the socket stays healthy.
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });

  it('refuses a socket opened by another site, or without an Origin', async () => {
    await assert.rejects(open(`ws://${base}/api/events`, 'https://evil.example'), /HTTP 403/);
    await assert.rejects(open(`ws://${base}/api/events`), /HTTP 403/);
    await assert.rejects(open(`ws://${base}/api/nothing`, `http://${base}`), /HTTP 404/);
  });
});
