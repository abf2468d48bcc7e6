import { Injectable } from '@nestjs/common';
import type { ErrorDetail } from '../common/api-error';
import { RATE_WINDOW_SECONDS } from './import-progress';
import type { ImportRecord, ImportStatus } from './import.types';
import type { RowError } from './import-row';
import type { SignupRecord } from '../signups/signup.types';
import type { Signup } from '../generated/prisma/client';
import { Client } from 'pg';
import { DatabaseConnection } from '../persistence/database-connection';
import { ImportStaging } from './import-staging';
import { PrismaService } from '../persistence/prisma.service';
import { SIGNUP_COLUMNS, toRecord } from '../signups/signup-rows';

const BUCKET = 'capa';

/**
 * The advisory lock an upload's own session holds while it stages and moves rows (released when the session ends, so
 * also when its replica dies): an import still STAGING whose lock is free was left by an upload that died.
 */
const STAGING_LOCK = `hashtextextended('capa-onboarding:import-staging:' || $1::text, 0)`;

/** An import row is claimable once its import has left STAGING (rows moved by an upload still moving wait for it). */
const NOT_STAGING = `NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = signups.import_id AND i.status = 'STAGING')`;

/** An import with its signups counted by status and its recent pace, all in database time. */
const IMPORT_WITH_COUNTS = `
  SELECT i.id, i.status::text AS status, i.created_at AS "createdAt", i.finished_at AS "finishedAt", i.rows, i.invalid,
         i.already_registered AS "alreadyRegistered", i.conflicts, i.cancelled, now() AS now,
         c.pending, c.created, c.failed, c."needsAttention",
         (SELECT count(*)::int FROM signups r WHERE r.import_id = i.id AND r.status <> 'PENDING'
            AND r.updated_at > now() - make_interval(secs => ${RATE_WINDOW_SECONDS})) AS "settledRecently"
  FROM imports i CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE s.status = 'PENDING')::int AS pending,
           count(*) FILTER (WHERE s.status = 'CREATED')::int AS created,
           count(*) FILTER (WHERE s.status = 'FAILED')::int AS failed,
           count(*) FILTER (WHERE s.status = 'NEEDS_ATTENTION')::int AS "needsAttention"
    FROM signups s WHERE s.import_id = i.id
  ) c`;

interface ImportRow {
  id: string;
  status: ImportStatus;
  createdAt: Date;
  finishedAt: Date | null;
  rows: number;
  invalid: number;
  alreadyRegistered: number;
  conflicts: number;
  cancelled: number;
  pending: number;
  created: number;
  failed: number;
  needsAttention: number;
  settledRecently: number;
  now: Date;
}

/** Imports: staging an upload, progress, row errors, cancel, and the shared rate limit on their Capa calls. */
@Injectable()
export class ImportRepository {
  /** Imports being staged by uploads of this replica (the embedded database's one session cannot tell them by lock). */
  private readonly staging = new Set<string>();

  constructor(
    private readonly prisma: PrismaService,
    private readonly connection: DatabaseConnection,
  ) {}

  /**
   * Runs `stage` on a session of its own, outside the pool (an upload may stream for minutes; it never holds one of the
   * pool's connections that live signups need; the number of uploads at once is capped by ImportsService), which stages
   * the rows in temporary tables and holds no transaction open while the file streams in. If `stage` throws, the
   * session ends and PostgreSQL drops its tables: a broken upload leaves nothing. The short transactions that move the
   * rows into signups write no events and end quickly, so they hold no event back for long (no exemption needed).
   */
  async stage<T>(importId: string, stage: (staging: ImportStaging) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.connection.connectionString, ...this.connection.stagingSessionSettings() });
    client.on('error', () => undefined);
    await client.connect();
    let staging: ImportStaging | undefined;
    this.staging.add(importId);
    try {
      await client.query(`SELECT pg_advisory_lock(${STAGING_LOCK})`, [importId]);
      staging = await ImportStaging.begin(client, importId);
      return await stage(staging);
    } catch (error) {
      // The embedded database serves every connection from one session: drop the tables rather than rely on the end.
      if (staging !== undefined && this.connection.embedded) await staging.drop().catch(() => undefined);
      throw error;
    } finally {
      this.staging.delete(importId);
      await client.end().catch(() => undefined);
    }
  }

  /**
   * Imports left STAGING by an upload that died while moving its rows (its replica crashed or lost its session: the
   * client never got an answer, its import id included) are cancelled: their rows not yet sent are withdrawn, as a
   * cancel would, and the import shows as CANCELLED. Only an upload's own session holds its lock, so an import whose
   * lock can be taken has no upload any more. Answers the ids swept.
   */
  async sweepAbandonedStaging(): Promise<string[]> {
    const { rows } = await this.prisma.pool.query<{ id: string }>(`SELECT id FROM imports WHERE status = 'STAGING' ORDER BY created_at`);
    const swept: string[] = [];
    for (const { id } of rows) {
      if (this.staging.has(id)) continue;
      const client = await this.prisma.pool.connect();
      try {
        await client.query('BEGIN');
        const { rows: locked } = await client.query<{ free: boolean }>(`SELECT pg_try_advisory_xact_lock(${STAGING_LOCK}) AS free`, [id]);
        if (locked[0].free) {
          const { rowCount } = await client.query(
            `WITH withdrawn AS (
               DELETE FROM signups s
               WHERE s.import_id = $1 AND s.status = 'PENDING' AND s.lease_until IS NULL AND s.call_started_at IS NULL AND s.attempt_count = 0
                 AND NOT EXISTS (SELECT 1 FROM capa_attempts a WHERE a.signup_id = s.id)
               RETURNING 1
             )
             UPDATE imports SET status = 'CANCELLED', finished_at = now(), cancelled = cancelled + (SELECT count(*) FROM withdrawn)
             WHERE id = $1 AND status = 'STAGING'`,
            [id],
          );
          if (rowCount === 1) swept.push(id);
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    }
    return swept;
  }

  async find(id: string): Promise<ImportRecord | null> {
    const { rows } = await this.prisma.pool.query<ImportRow>(`${IMPORT_WITH_COUNTS} WHERE i.id = $1 AND i.status <> 'STAGING'`, [id]);
    if (rows.length === 0) return null;
    const record = toImportRecord(rows[0]);
    if (record.status !== 'RUNNING' || record.counts.pending > 0) return record;
    return (await this.complete(id)) ? this.find(id) : record;
  }

  /** Newest first. */
  async list(limit: number): Promise<ImportRecord[]> {
    const { rows } = await this.prisma.pool.query<ImportRow>(`${IMPORT_WITH_COUNTS} WHERE i.status <> 'STAGING' ORDER BY i.created_at DESC, i.id LIMIT $1`, [limit]);
    const records = rows.map(toImportRecord);
    return Promise.all(records.map(async (record) => (record.status === 'RUNNING' && record.counts.pending === 0 ? ((await this.find(record.id)) ?? record) : record)));
  }

  /**
   * A RUNNING import whose rows have all settled is COMPLETED (whoever notices first; once), finished when its last row
   * settled (signups_import_settled_idx), not when someone noticed.
   */
  private async complete(id: string): Promise<boolean> {
    const { rowCount } = await this.prisma.pool.query(
      `UPDATE imports SET status = 'COMPLETED',
              finished_at = coalesce((SELECT max(updated_at) FROM signups WHERE import_id = $1 AND status <> 'PENDING'), now())
       WHERE id = $1 AND status = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM signups WHERE import_id = $1 AND status = 'PENDING')`,
      [id],
    );
    return rowCount === 1;
  }

  /** Row errors in line order after the given line, one more than asked so the caller knows whether more follow. */
  async rowErrors(id: string, afterLine: number, limit: number): Promise<RowError[]> {
    const { rows } = await this.prisma.pool.query<RowError & { details: ErrorDetail[] }>(
      `SELECT line, external_user_id AS "externalUserId", code, message, details FROM import_row_errors
       WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3`,
      [id, afterLine, limit + 1],
    );
    return rows;
  }

  /**
   * Withdraws the rows not yet sent to Capa (never leased, no call started, no attempt) and counts them `cancelled`, in
   * one statement: a worker's claim of the same rows either takes them first (the lease is then seen here) or skips them
   * as locked. `call_started_at` is committed before any call leaves, so a row whose call a draining replica cut off
   * (lease released, no attempt recorded yet) is never withdrawn: Capa may have created its user.
   * Answers false when there is no such RUNNING import.
   */
  async cancel(id: string): Promise<boolean> {
    const { rowCount } = await this.prisma.pool.query(
      `WITH withdrawn AS (
         DELETE FROM signups s
         WHERE s.import_id = $1 AND s.status = 'PENDING' AND s.lease_until IS NULL AND s.call_started_at IS NULL AND s.attempt_count = 0
           AND NOT EXISTS (SELECT 1 FROM capa_attempts a WHERE a.signup_id = s.id)
           AND EXISTS (SELECT 1 FROM imports WHERE id = $1 AND status = 'RUNNING')
         RETURNING 1
       )
       UPDATE imports SET status = 'CANCELLED', finished_at = now(), cancelled = cancelled + (SELECT count(*) FROM withdrawn)
       WHERE id = $1 AND status = 'RUNNING'`,
      [id],
    );
    return rowCount === 1;
  }

  /** Whether any import row is due with a free lease: one index probe, so an idle worker costs next to nothing. */
  async hasDue(): Promise<boolean> {
    const { rows } = await this.prisma.pool.query<{ due: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM signups
         WHERE status = 'PENDING' AND import_id IS NOT NULL AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until <= now())
           AND ${NOT_STAGING}
       ) AS due`,
    );
    return rows[0].due;
  }

  /**
   * Takes up to `wanted` tokens from the bucket every replica shares: it refills at `ratePerSecond` up to `burst`, in
   * database time. One conditional statement under the row's lock, so replicas never take the same token twice.
   */
  async takeTokens(wanted: number, ratePerSecond: number, burst: number): Promise<number> {
    const available = `least($3::float8, b.tokens + extract(epoch from greatest(interval '0', statement_timestamp() - b.refilled_at)) * $2::float8)`;
    const { rows } = await this.prisma.pool.query<{ granted: number }>(
      `INSERT INTO import_rate_buckets AS b (name, tokens, refilled_at, last_granted)
       VALUES ($4, 0, statement_timestamp(), 0)
       ON CONFLICT (name) DO UPDATE SET
         last_granted = least($1::int, floor(${available})::int),
         tokens = ${available} - least($1::int, floor(${available})),
         refilled_at = greatest(b.refilled_at, statement_timestamp())
       RETURNING last_granted AS granted`,
      [wanted, ratePerSecond, burst, BUCKET],
    );
    return rows[0]?.granted ?? 0;
  }

  /** Tokens taken but not used (fewer rows were due) go back, up to the burst. */
  async returnTokens(unused: number, burst: number): Promise<void> {
    if (unused <= 0) return;
    await this.prisma.pool.query(`UPDATE import_rate_buckets SET tokens = least($2::float8, tokens + $1) WHERE name = $3`, [unused, burst, BUCKET]);
  }

  /**
   * The import claim: up to `limit` due PENDING import rows whose lease is free, oldest first, each leased to a drive of
   * its own (`ownerPrefix:<id>`) in the same statement (SKIP LOCKED, so replicas never pick the same row), on the
   * database's clock. Served by signups_import_pending_due_idx.
   */
  async claimDue(ownerPrefix: string, leaseMs: number, limit: number): Promise<SignupRecord[]> {
    const { rows } = await this.prisma.pool.query<Signup>(
      `UPDATE signups SET lease_owner = $1 || ':' || id::text, lease_until = now() + make_interval(secs => $2::float8 / 1000),
                          next_attempt_at = now() + make_interval(secs => $2::float8 / 1000), updated_at = now()
       WHERE id IN (
         SELECT id FROM signups
         WHERE status = 'PENDING' AND import_id IS NOT NULL AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until <= now())
           AND ${NOT_STAGING}
         ORDER BY next_attempt_at, id
         LIMIT $3
         FOR UPDATE SKIP LOCKED
       )
       RETURNING ${SIGNUP_COLUMNS.sql}`,
      [ownerPrefix, leaseMs, limit],
    );
    return rows.map((row) => toRecord({ ...row, id: BigInt(row.id) }));
  }

  /** Import rows by where they stand, over every import (for the metrics). */
  async countRowsByState(): Promise<Record<string, number>> {
    const { rows } = await this.prisma.pool.query<Record<string, string>>(
      `SELECT (SELECT coalesce(sum(invalid), 0) FROM imports) AS invalid,
              (SELECT coalesce(sum(already_registered), 0) FROM imports) AS "alreadyRegistered",
              (SELECT coalesce(sum(conflicts), 0) FROM imports) AS conflicts,
              (SELECT coalesce(sum(cancelled), 0) FROM imports) AS cancelled,
              count(*) FILTER (WHERE status = 'PENDING') AS pending,
              count(*) FILTER (WHERE status = 'CREATED') AS created,
              count(*) FILTER (WHERE status = 'FAILED') AS failed,
              count(*) FILTER (WHERE status = 'NEEDS_ATTENTION') AS "needsAttention"
       FROM signups WHERE import_id IS NOT NULL`,
    );
    return Object.fromEntries(Object.entries(rows[0]).map(([state, count]) => [state, Number(count)]));
  }
}

function toImportRecord(row: ImportRow): ImportRecord {
  const { id, status, createdAt, finishedAt, settledRecently, now } = row;
  const { rows, invalid, alreadyRegistered, conflicts, pending, created, failed, needsAttention, cancelled } = row;
  return {
    id,
    status,
    createdAt,
    finishedAt,
    settledRecently,
    now,
    counts: { rows, invalid, alreadyRegistered, conflicts, pending, created, failed, needsAttention, cancelled },
  };
}
