// `mailroom queue`, as an operator runs it against a store (here SQLite, written beforehand).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { newMessageId } from '../../src/domain/ids.ts';
import { SqliteStorage } from '../../src/storage/sqlite/store.ts';
import { tempDir } from '../helpers/backends.ts';
import { outboundMessage } from '../helpers/fixtures.ts';
import { BIN } from '../helpers/process.ts';

function mailroom(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env } });
}

describe('mailroom queue', () => {
  const dir = tempDir();
  const messageId = newMessageId();
  let deliveries: string[] = [];

  before(async () => {
    const storage = await SqliteStorage.open(dir);
    await storage.outbound.enqueue(
      outboundMessage(['ann@one.example', 'bob@two.example'], 'Subject: cli\r\n\r\nx\r\n', Date.now(), {
        id: messageId,
      }),
    );
    deliveries = (await storage.outbound.get(messageId))!.deliveries.map((d) => d.id);
    await storage.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the deliveries, one line each', () => {
    const r = mailroom(['queue', 'list', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const id of deliveries)
      assert.ok(
        lines.some((l) => l.startsWith(`${id}  queued`)),
        r.stdout,
      );
    assert.match(r.stdout, /ann@one\.example/);
  });

  it('holds and releases deliveries, and fails (exit 1) for what it cannot do', () => {
    const held = mailroom(['queue', 'hold', deliveries[0]!, '--data-dir', dir]);
    assert.equal(held.status, 0, held.stderr);
    assert.equal(held.stdout, `${deliveries[0]}: held\n`);
    const json = mailroom(['queue', 'list', '--state', 'held', '--json', '--data-dir', dir]);
    assert.deepEqual(
      (JSON.parse(json.stdout) as { id: string }[]).map((d) => d.id),
      [deliveries[0]],
    );
    const again = mailroom(['queue', 'hold', deliveries[0]!, 'NoSuchDeliveryXXXXXXXX', '--data-dir', dir]);
    assert.equal(again.status, 1);
    assert.match(again.stdout, /cannot hold a delivery in its present state/);
    assert.match(again.stdout, /NoSuchDeliveryXXXXXXXX: no such delivery/);
    assert.equal(
      mailroom(['queue', 'release', deliveries[0]!, '--data-dir', dir]).stdout,
      `${deliveries[0]}: queued\n`,
    );
  });

  it('shows one message with its events as JSON', () => {
    const r = mailroom(['queue', 'show', messageId, '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { id: string; events: { type: string }[] };
    assert.equal(shown.id, messageId);
    assert.deepEqual(
      shown.events.map((e) => e.type),
      ['message:queued', 'delivery:held', 'delivery:released'],
    );
  });

  it('refuses unknown states and commands with usage and exit 2', () => {
    const bad = mailroom(['queue', 'list', '--state', 'lost', '--data-dir', dir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown state "lost"/);
    const unknown = mailroom(['queue', 'explode', 'x', '--data-dir', dir]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "explode"/);
    assert.match(mailroom(['queue', 'help']).stdout, /mailroom queue hold\|release\|retry\|cancel/);
  });
});
