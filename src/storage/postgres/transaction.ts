// One transaction on a client checked out of the pool: committed when `fn` resolves, rolled back
// when it throws, and the client always returned.
import type pg from 'pg';

/** Its commit is durable, as every commit of a Mailroom session (see DURABLE_SESSION). */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const value = await fn(client);
    await client.query('COMMIT');
    return value;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
