import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabase, startEmbeddedDatabase } from './embedded-database';
import { planWebhook } from '../capa-webhooks/webhook-plan';
import { readWebhook } from '../capa-webhooks/capa-webhook';
import { DEFAULT_MIGRATIONS_DIR, applyMigrations } from './migrator';

const ALL_MIGRATIONS = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('startEmbeddedDatabase', () => {
  let dataDir: string;
  const running: EmbeddedDatabase[] = [];

  async function start(): Promise<EmbeddedDatabase> {
    const database = await startEmbeddedDatabase({ dataDir });
    running.push(database);
    return database;
  }

  async function withClient<T>(database: EmbeddedDatabase, work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: database.connectionString });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  const insertSignup = (client: Client, externalUserId: string, status = 'PENDING') =>
    client.query(
      `INSERT INTO signups (external_user_id, status, method, fingerprint, next_attempt_at)
       VALUES ($1, $2, 'NONE', 'fp', now())
       ON CONFLICT (external_user_id) DO NOTHING
       RETURNING id`,
      [externalUserId, status],
    );

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'capa-embedded-'));
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((database) => database.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps migrated data on disk across a restart, on a port other than 5432', async () => {
    const first = await start();
    expect(new URL(first.connectionString).port).not.toBe('5432');
    expect(first.maxConnections).toBe(1);
    expect((await applyMigrations(first.connectionString)).applied).toEqual(ALL_MIGRATIONS);
    await withClient(first, (client) => insertSignup(client, 'user-1'));
    await first.stop();

    const second = await start();
    const rows = await withClient(second, (client) =>
      client.query<{ external_user_id: string }>('SELECT external_user_id FROM signups'),
    );

    expect(rows.rows).toEqual([{ external_user_id: 'user-1' }]);
    expect((await applyMigrations(second.connectionString)).applied).toEqual([]);
  });

  it('serves the SQL the service relies on', async () => {
    const database = await start();
    await applyMigrations(database.connectionString);

    await withClient(database, async (client) => {
      expect((await insertSignup(client, 'user-1')).rows).toHaveLength(1);
      expect((await insertSignup(client, 'user-1')).rows).toHaveLength(0);
      await insertSignup(client, 'user-2', 'CREATED');

      const lock = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(7) AS locked');
      expect(lock.rows[0].locked).toBe(true);
      await client.query('SELECT pg_advisory_unlock(7)');

      await client.query('BEGIN');
      const claimed = await client.query<{ external_user_id: string }>(
        `SELECT external_user_id FROM signups
          WHERE status = 'PENDING' AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT 10 FOR UPDATE SKIP LOCKED`,
      );
      await client.query('COMMIT');
      expect(claimed.rows).toEqual([{ external_user_id: 'user-1' }]);

      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM signups WHERE status = 'PENDING' AND next_attempt_at <= now() ORDER BY next_attempt_at`,
      );
      await client.query('RESET enable_seqscan');
      expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('signups_pending_due_idx');

      // A Capa webhook delivery is one PL/pgSQL call (capa_record_delivery).
      const delivery = readWebhook(Buffer.from(JSON.stringify({ type: 'KYC', event: 'VERIFIED_USER', externalUserId: 'user-2' })));
      const recorded = await client.query(
        `SELECT decision_key AS key, previous_kyc_status AS previous FROM capa_record_delivery($1, $2, $3, $4, $5, $6, $7, $8)`,
        ['user-2', 'KYC', 'VERIFIED_USER', delivery.sha256, delivery.raw.toString('utf8'), null, 3600, JSON.stringify(planWebhook(delivery))],
      );
      expect(recorded.rows).toEqual([{ key: 'fresh', previous: 'NOT_STARTED' }]);
      const signup = await client.query(`SELECT kyc_status::text AS status FROM signups WHERE external_user_id = 'user-2'`);
      expect(signup.rows).toEqual([{ status: 'VERIFIED' }]);

      // The event feed reads below capa_event_horizon(): with nothing else running, the delivery's event is below it.
      const feed = await client.query(
        `SELECT type FROM outbox_events WHERE external_user_id = 'user-2' AND writer_xid < (SELECT capa_event_horizon())`,
      );
      expect(feed.rows).toEqual([{ type: 'kyc.status_changed' }]);
    });
  });

  it('accepts a new connection while the previous one is still closing', async () => {
    const database = await start();
    const closing = new Client({ connectionString: database.connectionString });
    await closing.connect();
    const closed = closing.end();

    const answer = await withClient(database, (client) => client.query<{ one: number }>('SELECT 1 AS one'));

    await closed;
    expect(answer.rows).toEqual([{ one: 1 }]);
  });

  it('refuses a directory another instance has open, and port 5432', async () => {
    await start();

    await expect(startEmbeddedDatabase({ dataDir })).rejects.toThrow(/already in use by process/);
    await expect(startEmbeddedDatabase({ dataDir: path.join(dataDir, 'other'), port: 5432 })).rejects.toThrow(
      /5432/,
    );
  });
});
