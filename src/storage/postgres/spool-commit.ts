// One group commit of spool appends. All calls that queued while the previous commit ran share
// one transaction, so one WAL flush (synchronous_commit at least on: see DURABLE_SESSION) makes all of
// them durable. Each call still succeeds or fails on its own.
import type pg from 'pg';
import type { SpoolEntry } from '../../domain/message.ts';
import { insertSpool } from './write-ops.ts';

/** The channel other nodes LISTEN on to learn that new messages were spooled. */
export const SPOOL_CHANNEL = 'mailroom_spool';

/** One appendSpool call; `error` is set when only this call's rows were rolled back. */
export interface SpoolCall {
  entries: readonly SpoolEntry[];
  error: unknown;
}

// NOTIFY is queued inside the transaction and delivered only if it commits; identical
// notifications of one transaction fold into one. Sent with COMMIT in a single round trip.
const NOTIFY_AND_COMMIT = `NOTIFY ${SPOOL_CHANNEL}; COMMIT`;

/**
 * Commits the calls, resolving normally even when some calls failed alone (their `error` is set).
 * Throws only when the shared transaction itself failed, which fails every call.
 */
export async function flushSpool(pool: pg.Pool, calls: readonly SpoolCall[]): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    if (!(await commitTogether(client, calls))) await commitEach(client, calls);
  } catch (err) {
    // The connection's state is unknown (dropped mid-commit, say): discard it, not reuse it.
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Fast path: every entry of every call in one statement per chunk. Returns false when the insert
 * failed and more than one call shares the batch, so that commitEach can find the culprit.
 */
async function commitTogether(client: pg.PoolClient, calls: readonly SpoolCall[]): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await insertSpool(
      client,
      calls.flatMap((c) => c.entries),
    );
  } catch (err) {
    await client.query('ROLLBACK');
    if (calls.length > 1) return false;
    (calls[0] as SpoolCall).error = err;
    return true;
  }
  await client.query(NOTIFY_AND_COMMIT);
  return true;
}

/** Slow path after a failure: a savepoint per call, so a bad call rolls back only its own rows. */
async function commitEach(client: pg.PoolClient, calls: readonly SpoolCall[]): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const call of calls) {
      await client.query('SAVEPOINT spool_call');
      try {
        await insertSpool(client, call.entries);
        await client.query('RELEASE SAVEPOINT spool_call');
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT spool_call');
        call.error = err;
      }
    }
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
  await client.query(NOTIFY_AND_COMMIT);
}
