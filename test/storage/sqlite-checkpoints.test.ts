// The SQLite writer's checkpoints: deferred while spool commits come in a burst, run once they
// pause (src/storage/sqlite/checkpoints.ts, ADR 0016).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import {
  BURST_CHECKPOINT_PAGES,
  CHECKPOINT_PAGES,
  Checkpoints,
} from '../../src/storage/sqlite/checkpoints.ts';
import { openDatabase } from '../../src/storage/sqlite/open.ts';
import { tempDir } from '../helpers/backends.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function open(): { db: DatabaseSync; file: string } {
  const dir = tempDir('mailroom-checkpoints-');
  dirs.push(dir);
  const file = path.join(dir, 'mailroom.db');
  const db = openDatabase(file);
  db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  return { db, file };
}

/** 240 blobs of 100 KiB (23.4 MiB) in commits of 10: about 6,000 pages of 4 KiB, past the automatic checkpoint's 4,000. */
function write(db: DatabaseSync, afterCommit: () => void = () => {}): void {
  const insert = db.prepare('INSERT INTO blobs (data) VALUES (?)');
  const blob = new Uint8Array(100 * 1024).fill(7);
  for (let commit = 0; commit < 24; commit++) {
    db.exec('BEGIN');
    for (let i = 0; i < 10; i++) insert.run(blob);
    db.exec('COMMIT');
    afterCommit();
  }
}

const MiB = 1024 * 1024;
const autocheckpoint = (db: DatabaseSync) =>
  (db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint;

describe('SQLite checkpoints', () => {
  it('between bursts, SQLite copies the WAL into the database every 4,000 pages', () => {
    const { db, file } = open();
    assert.equal(autocheckpoint(db), CHECKPOINT_PAGES);
    write(db);
    assert.ok(fs.statSync(file).size >= 15 * MiB, 'the database file holds what was checkpointed');
    db.close();
  });

  it('during a burst the WAL keeps the pages; the checkpoint runs once spool commits pause', async () => {
    const { db, file } = open();
    const checkpoints = new Checkpoints(db, 50);
    try {
      write(db, () => checkpoints.spoolCommitted());
      assert.equal(autocheckpoint(db), BURST_CHECKPOINT_PAGES);
      assert.ok(fs.statSync(file).size < MiB, 'nothing copied into the database file during the burst');
      assert.equal((db.prepare('SELECT count(*) AS n FROM blobs').get() as { n: number }).n, 240);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(fs.statSync(file).size >= 23 * MiB, 'checkpointed after the pause');
      assert.equal(autocheckpoint(db), CHECKPOINT_PAGES, 'automatic checkpoints are back');
    } finally {
      checkpoints.stop();
      db.close();
    }
  });

  it('a commit during the pause keeps deferring', async () => {
    const { db, file } = open();
    const checkpoints = new Checkpoints(db, 80);
    try {
      write(db, () => checkpoints.spoolCommitted());
      await new Promise((r) => setTimeout(r, 50));
      checkpoints.spoolCommitted();
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(fs.statSync(file).size < MiB, '100 ms after the burst, 50 after its last commit');
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(fs.statSync(file).size >= 23 * MiB);
    } finally {
      checkpoints.stop();
      db.close();
    }
  });
});
