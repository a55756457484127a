// One transaction on a client checked out of the pool: committed when `fn` resolves, rolled back
// when it throws, and the client always returned.
import type pg from 'pg';

/** `begin` is the statement that opens it: plain BEGIN, or BEGIN_DURABLE for a commit that must survive a crash. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
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
