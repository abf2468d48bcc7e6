import { Client } from 'pg';
import { ndjson, upload, waitForImport } from './support/imports';
import { useServiceCluster } from './support/service-cluster';
import { request } from './support/test-app';

const ROWS = 10_000;
/** The id the test holds uncommitted: the move's second transaction (rows 5,000 to 9,999) waits on it. */
const HELD = 7_000;

/**
 * A replica that dies while an upload moves its rows into signups (the client never got an answer, nor the import's
 * id) leaves an import STAGING with some rows moved. Those rows are never driven while the import is STAGING, and the
 * next replica to look cancels the import: the rows it had moved are withdrawn, nothing was sent to Capa.
 */
describe('an upload that dies while its rows move (real child processes)', () => {
  const cluster = useServiceCluster({
    databaseName: 'capa_staging_crash',
    env: {
      WORKER_INTERVAL_MS: '100',
      IMPORT_CAPA_RPS: '200',
      // The move waits on the row this test holds, for as long as the test needs.
      DB_LOCK_TIMEOUT_MS: '120000',
    },
  });
  const { simulator, start } = cluster;

  it('never drives the rows of a STAGING import, and cancels it once its upload has died', async () => {
    const tag = `crash-${Date.now()}`;
    const id = (index: number) => `${tag}-${String(index).padStart(5, '0')}`;
    const holder = new Client({ connectionString: cluster.database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `INSERT INTO signups (external_user_id, status, method, identifier, user_type, fingerprint)
         VALUES ($1, 'FAILED', 'EMAIL', 'held@example.com', 'INDIVIDUAL', 'held')`,
        [id(HELD)],
      );

      const first = await start();
      const body = ndjson(Array.from({ length: ROWS }, (_, index) => ({ externalUserId: id(index) })));
      const uploading = upload(first.url, body).catch((error: unknown) => error);

      // The first 5,000 rows are moved and committed; the second batch waits on the held row.
      const staged = await waitFor(async () => {
        const { rows } = await holder.query<{ id: string; moved: number }>(
          `SELECT i.id, (SELECT count(*)::int FROM signups s WHERE s.import_id = i.id) AS moved FROM imports i WHERE i.status = 'STAGING'`,
        );
        return rows.length === 1 && rows[0].moved === 5_000 ? rows[0] : undefined;
      });
      // Moved but STAGING: the import worker (100 ms passes, 200 rows/s) leaves them alone.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const leased = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM signups WHERE import_id = $1 AND (lease_owner IS NOT NULL OR call_started_at IS NOT NULL)`,
        [staged.id],
      );
      expect(leased.rows[0].n).toBe(0);
      expect(simulator.callsFor(id(0))).toBe(0);

      await first.kill();
      // The client never got an answer (fetch fails: the socket closed).
      expect(await uploading).toHaveProperty('message', expect.any(String));
      await holder.query('ROLLBACK');

      const second = await start();
      const view = await waitForImport(second.url, staged.id, (candidate) => candidate.status === 'CANCELLED', 10_000);
      // The waiting batch ran once the held row was let go (its statement commits before its session can notice that
      // the client is gone), so all 10,000 rows had moved: all are withdrawn.
      expect(view).toMatchObject({ id: staged.id, status: 'CANCELLED', counts: { cancelled: ROWS, pending: 0 } });
      const left = await holder.query<{ n: number }>(`SELECT count(*)::int AS n FROM signups WHERE external_user_id LIKE $1`, [`${tag}-%`]);
      expect(left.rows[0].n).toBe(0);
      expect(Array.from({ length: 20 }, (_, index) => simulator.callsFor(id(index * 250))).every((calls) => calls === 0)).toBe(true);

      // The partner sends the file again: every row is imported and registered once.
      const again = await upload(second.url, body);
      expect(again.status).toBe(202);
      expect(again.body.counts).toMatchObject({ rows: ROWS, invalid: 0, alreadyRegistered: 0, conflicts: 0 });
      const list = await request(second.url, 'GET', '/v1/imports');
      expect(list.body.items.map((item: { id: string }) => item.id)).toEqual(expect.arrayContaining([staged.id, again.body.id]));
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
  }, 120_000);
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
