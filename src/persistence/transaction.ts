import type { Pool, PoolClient } from 'pg';

/** A transaction's connection: every statement of one unit of work runs on it between BEGIN and COMMIT. */
export type Transaction = PoolClient;

/** Runs `work` on one pooled connection inside BEGIN / COMMIT; rolls back (and rethrows) when it fails. */
export async function runInTransaction<T>(pool: Pool, work: (tx: Transaction) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    throw error;
  } finally {
    // A connection whose ROLLBACK failed is in an unknown state: the pool drops it.
    client.release(broken);
  }
}
