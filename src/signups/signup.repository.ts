import { Injectable } from '@nestjs/common';
import type { CapaAttemptRecord } from '../capa/capa-outcome';
import type { RecoveryPace } from './recovery-watch';
import type { Transition } from './signup-state';
import type { SignupRecord, SignupRequest, SignupStatus } from './signup.types';
import { type Signup } from '../generated/prisma/client';
import { AttemptActor, CreatedSettlement, Lease, PRISMA_ROW_TYPES, SIGNUP_COLUMNS, isUniqueViolation, toRecord } from './signup-rows';
import { outboxInsertForSettled, settledEventsParam, signupSettled } from '../events/signup-events';
import { PrismaService } from '../persistence/prisma.service';
import { tracing } from '../tracing/tracing';

/** A lease's end, `$n` milliseconds from now on the database's clock. */
const leaseEnd = (param: string) => `now() + ${param} * interval '1 millisecond'`;
/** A lease nobody holds any more, by the database's clock. */
const LEASE_FREE = `(lease_until IS NULL OR lease_until <= now())`;
/**
 * Every settle follows a call to Capa: the row keeps the fact, also when its drive did not mark it before the call
 * (a row the request inserted itself, which no import cancel can withdraw: SignupsService.callCapaAndSettle).
 */
const CALL_STARTED = `call_started_at = coalesce(call_started_at, now())`;

/**
 * The signup flow's own statements: every new signup runs insertPending, recordAttempt and applyTransition, and every
 * uncached read or replay findByExternalUserId. They run on the driver adapter's pg pool, not through Prisma's query
 * engine, which cost ~200 µs of CPU per statement (more than the whole rest of a request) and held new signups to
 * ~0.45x of raw pg (measured; BENCHMARKS.md). The rows are the Prisma model's (test/signup-repository.e2e-spec.ts).
 * Every lease is written and compared on the database's clock.
 */
const HOT_STATEMENTS = {
  findByExternalUserId: `SELECT ${SIGNUP_COLUMNS.sql} FROM signups WHERE external_user_id = $1`,
  insertPending: `
    INSERT INTO signups (external_user_id, method, identifier, user_type, alias, fingerprint, status,
                         lease_owner, lease_until, next_attempt_at, created_at, updated_at, trace_parent)
    VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, ${leaseEnd('$8')}, ${leaseEnd('$8')}, $9, $9, $10)
    ON CONFLICT (external_user_id) DO NOTHING
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  claimPending: `
    UPDATE signups SET lease_owner = $2, lease_until = ${leaseEnd('$3')}, next_attempt_at = ${leaseEnd('$3')}, updated_at = $4
    WHERE id = $1 AND status = 'PENDING' AND ${LEASE_FREE}
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  replaceFailed: `
    UPDATE signups SET method = $4, identifier = $5, user_type = $6, alias = $7, fingerprint = $8, status = 'PENDING',
                       error_code = NULL, error_message = NULL, trace_parent = $11, fingerprint_salt = NULL, erased_at = NULL,
                       lease_owner = $2, lease_until = ${leaseEnd('$3')}, next_attempt_at = ${leaseEnd('$3')}, updated_at = $9
    WHERE id = $1 AND status = 'FAILED' AND fingerprint = $10
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  takeForRedrive: `
    UPDATE signups SET status = 'PENDING', lease_owner = $2, lease_until = ${leaseEnd('$3')}, next_attempt_at = ${leaseEnd('$3')},
                       updated_at = $4
    WHERE id = $1 AND (status IN ('FAILED', 'NEEDS_ATTENTION') OR (status = 'PENDING' AND ${LEASE_FREE}))
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  // Each settle writes its outbox event (signup.created / .failed / .needs_attention) in the same statement.
  // A userId from Capa always wins, whoever holds the lease and whatever another call concluded meanwhile.
  settleCreated: `
    WITH settled AS (
      UPDATE signups SET status = 'CREATED', capa_user_id = $2, error_code = NULL, error_message = NULL,
                         next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL,
                         attempt_count = attempt_count + $3, updated_at = $4, ${CALL_STARTED}
      WHERE id = $1 AND status IN ('PENDING', 'NEEDS_ATTENTION', 'FAILED')
      RETURNING ${SIGNUP_COLUMNS.sql}
    ), event AS (${outboxInsertForSettled('$5')})
    SELECT * FROM settled`,
  // Any other outcome only by the drive that holds the lease.
  settleOther: `
    WITH settled AS (
      UPDATE signups SET status = $2::"SignupStatus", error_code = $3, error_message = $4,
                         next_attempt_at = CASE WHEN $5::bigint IS NULL THEN NULL ELSE now() + $5::bigint * interval '1 millisecond' END,
                         lease_owner = NULL, lease_until = NULL, attempt_count = attempt_count + $6, updated_at = $7,
                         ${CALL_STARTED}
      WHERE id = $1 AND status = 'PENDING' AND lease_owner = $8
      RETURNING ${SIGNUP_COLUMNS.sql}
    ), event AS (${outboxInsertForSettled('$9')})
    SELECT * FROM settled`,
  // Capa gave a userId that another signup already holds: keep the row for an operator (the id is on the attempt).
  settleUserIdTaken: `
    WITH settled AS (
      UPDATE signups SET status = 'NEEDS_ATTENTION', error_code = 'USER_ID_ALREADY_ATTACHED', error_message = $2,
                         next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL,
                         attempt_count = attempt_count + $3, updated_at = $4, ${CALL_STARTED}
      WHERE id = $1 AND status IN ('PENDING', 'FAILED')
      RETURNING ${SIGNUP_COLUMNS.sql}
    ), event AS (${outboxInsertForSettled('$5')})
    SELECT * FROM settled`,
  // The worker's pick: each claimed row gets its own lease owner (one drive per row), `$1:<id>`. Import rows are the
  // ImportWorker's (src/imports), rate-limited; excluding them (signups_live_pending_due_idx) keeps live retries from
  // ever waiting behind an import.
  claimDue: `
    UPDATE signups SET lease_owner = $1 || ':' || id::text, lease_until = ${leaseEnd('$2')}, next_attempt_at = ${leaseEnd('$2')},
                       updated_at = $4
    WHERE id IN (
      SELECT id FROM signups
      WHERE status = 'PENDING' AND next_attempt_at <= now() AND ${LEASE_FREE} AND import_id IS NULL
      ORDER BY next_attempt_at
      LIMIT $3
      FOR UPDATE SKIP LOCKED
    )
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  releaseLeases: `
    UPDATE signups SET lease_owner = NULL, lease_until = NULL, next_attempt_at = now(), updated_at = $2
    WHERE lease_owner = ANY($1::text[]) AND status = 'PENDING'`,
  // The fact an import cancel reads: this drive is about to call Capa. Only the lease holder writes it, so a drive whose
  // lease is gone (released, taken over, the row withdrawn) learns it here and does not call.
  markCallStarted: `
    UPDATE signups SET call_started_at = coalesce(call_started_at, now())
    WHERE id = $1 AND status = 'PENDING' AND lease_owner = $2 AND lease_until > now()`,
  recordAttempt: `
    INSERT INTO capa_attempts (signup_id, at, actor, outcome, http_status, latency_ms, error_code, error_message, capa_user_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
} as const;

type RowStatement = Exclude<keyof typeof HOT_STATEMENTS, 'recordAttempt' | 'releaseLeases' | 'markCallStarted'>;

/** The signup mappings in PostgreSQL. Every write that could race is a single conditional statement. */
@Injectable()
export class SignupRepository {
  constructor(private readonly prisma: PrismaService) {}

  async findByExternalUserId(externalUserId: string): Promise<SignupRecord | null> {
    const rows = await this.hot('findByExternalUserId', [externalUserId]);
    return rows[0] ?? null;
  }

  /** Writes a new PENDING row holding the lease; null when the externalUserId is already there. */
  async insertPending(request: SignupRequest, lease: Lease, now = new Date()): Promise<SignupRecord | null> {
    const { externalUserId, method, identifier, userType, alias, fingerprint } = request;
    // If this drive dies, the row is due for the worker as soon as its lease runs out (next_attempt_at = lease_until).
    const rows = await this.hot('insertPending', [externalUserId, method, identifier, userType, alias, fingerprint, lease.owner, lease.ms, now, tracing.traceparent() ?? null]);
    return rows[0] ?? null;
  }

  /** Takes the lease of a PENDING row whose lease is free; null when someone else holds it or it settled. */
  async claimPending(id: bigint, lease: Lease, now: Date): Promise<SignupRecord | null> {
    const rows = await this.hot('claimPending', [id, lease.owner, lease.ms, now]);
    return rows[0] ?? null;
  }

  /** A corrected payload takes over a FAILED row, as long as nobody changed it since it was read. */
  async replaceFailed(previous: SignupRecord, request: SignupRequest, lease: Lease, now: Date): Promise<SignupRecord | null> {
    const { method, identifier, userType, alias, fingerprint } = request;
    const rows = await this.hot('replaceFailed', [previous.id, lease.owner, lease.ms, method, identifier, userType, alias, fingerprint, now, previous.fingerprint, tracing.traceparent() ?? null]);
    return rows[0] ?? null;
  }

  /**
   * Applies a non-CREATED transition to a PENDING row, only for the drive that holds its lease.
   * Null when the row was not ours to change.
   */
  async applyTransition(id: bigint, owner: string, transition: Exclude<Transition, { status: 'CREATED' }>, attempts: number, now: Date): Promise<SignupRecord | null> {
    const retryInMs = transition.status === 'PENDING' ? Math.round(transition.retryInMs) : null;
    const event = settledEventsParam(signupSettled(transition.status, transition.errorCode, transition.errorMessage));
    const rows = await this.hot('settleOther', [id, transition.status, transition.errorCode, transition.errorMessage, retryInMs, attempts, now, owner, event]);
    return rows[0] ?? null;
  }

  /**
   * Attaches the userId Capa answered, whoever holds the lease, from PENDING, NEEDS_ATTENTION or FAILED. A CREATED row
   * keeps its first userId; a userId another signup holds is refused by the unique index, never attached twice.
   */
  async settleCreated(id: bigint, userId: string, attempts: number, now: Date): Promise<CreatedSettlement> {
    try {
      const rows = await this.hot('settleCreated', [id, userId, attempts, now, settledEventsParam(signupSettled('CREATED'))]);
      if (rows.length === 1) return { kind: 'settled', row: rows[0] };
      return { kind: 'already-created', row: await this.findById(id) };
    } catch (error) {
      if (!isUniqueViolation(error, 'signups_capa_user_id_key')) throw error;
      const message = `Capa answered userId ${userId}, which another signup already holds`;
      const event = settledEventsParam(signupSettled('NEEDS_ATTENTION', 'USER_ID_ALREADY_ATTACHED', message));
      const rows = await this.hot('settleUserIdTaken', [id, message, attempts, now, event]);
      return { kind: 'user-id-taken', row: rows[0] ?? (await this.findById(id)) };
    }
  }

  /**
   * The worker's pick: due PENDING rows whose lease is free, locked with SKIP LOCKED so replicas never pick the same
   * row, each leased to its own drive (`ownerPrefix:<id>`) in the same statement. Served by signups_pending_due_idx.
   */
  async claimDue(ownerPrefix: string, leaseMs: number, limit: number, now: Date): Promise<SignupRecord[]> {
    return this.hot('claimDue', [ownerPrefix, leaseMs, limit, now]);
  }

  /**
   * An operator's re-drive: a FAILED or NEEDS_ATTENTION row, or a PENDING one nobody holds, goes back to PENDING
   * under this lease. Null when the row is CREATED or someone else holds its lease.
   */
  async takeForRedrive(id: bigint, lease: Lease, now: Date): Promise<SignupRecord | null> {
    const rows = await this.hot('takeForRedrive', [id, lease.owner, lease.ms, now]);
    return rows[0] ?? null;
  }

  /** PENDING rows due now or overdue: the worker's backlog. */
  async countDue(): Promise<number> {
    const rows = await this.prisma.$queryRaw<Array<{ due: number }>>`
      SELECT count(*)::int AS due FROM signups WHERE status = 'PENDING' AND next_attempt_at <= now()`;
    return rows[0]?.due ?? 0;
  }

  /**
   * Commits, before the HTTP request leaves, that this drive calls Capa for the row (`call_started_at`). False when the
   * drive no longer holds the row's lease (or the row is gone): then it must not call.
   */
  async markCallStarted(id: bigint, owner: string): Promise<boolean> {
    const result = await this.prisma.pool.query({ text: HOT_STATEMENTS.markCallStarted, values: [id, owner] });
    return result.rowCount === 1;
  }

  async recordAttempt(signupId: bigint, actor: AttemptActor, attempt: CapaAttemptRecord): Promise<void> {
    const { at, outcome, httpStatus, latencyMs, errorCode, errorMessage, userId } = attempt;
    await this.prisma.pool.query({
      text: HOT_STATEMENTS.recordAttempt,
      values: [signupId, at, actor, outcome, httpStatus, latencyMs, errorCode, errorMessage, userId],
    });
  }

  /** Lets go of the leases of these drives (ones that did not finish before shutdown), so another replica takes over. */
  async releaseLeases(owners: readonly string[], now: Date): Promise<number> {
    if (owners.length === 0) return 0;
    const result = await this.prisma.pool.query({ text: HOT_STATEMENTS.releaseLeases, values: [owners, now] });
    return result.rowCount ?? 0;
  }

  /**
   * After Capa recovered: waiting PENDING rows (due later, lease free) are made due one after another, live ones at
   * `pace.liveRatePerSecond` and import rows at `pace.importRatePerSecond`, earliest first, from now on the database's
   * clock. A row is only ever moved earlier, so replicas that saw the same recovery agree. Answers how many moved.
   */
  async bringForwardWaiting(pace: RecoveryPace): Promise<number> {
    const waiting = (importRows: 'NULL' | 'NOT NULL', limit: string) => `
      SELECT id, row_number() OVER (ORDER BY next_attempt_at, id) - 1 AS position FROM (
        SELECT id, next_attempt_at FROM signups
        WHERE status = 'PENDING' AND import_id IS ${importRows} AND next_attempt_at > now() AND ${LEASE_FREE}
        ORDER BY next_attempt_at, id
        LIMIT ${limit}) w`;
    const result = await this.prisma.pool.query(
      `WITH live AS (${waiting('NULL', '$2')}),
            imported AS (${waiting('NOT NULL', '$4')}),
            spread AS (
              SELECT id, now() + (position * 1000.0 / $1::float8) * interval '1 millisecond' AS due FROM live
              UNION ALL
              SELECT id, now() + (position * 1000.0 / $3::float8) * interval '1 millisecond' AS due FROM imported
            )
       UPDATE signups s SET next_attempt_at = spread.due
       FROM spread
       WHERE s.id = spread.id AND s.status = 'PENDING' AND s.next_attempt_at > spread.due AND (s.lease_until IS NULL OR s.lease_until <= now())`,
      [pace.liveRatePerSecond, pace.liveLimit, pace.importRatePerSecond, pace.importLimit],
    );
    return result.rowCount ?? 0;
  }

  /**
   * While Capa is failing: makes the earliest waiting PENDING row due now, unless one is due within `withinMs` anyway,
   * so some call finds out when Capa is back even if every signup waits minutes. Answers whether a row moved.
   */
  async makeEarliestDue(withinMs: number): Promise<boolean> {
    const result = await this.prisma.pool.query(
      `UPDATE signups SET next_attempt_at = now()
       WHERE id = (SELECT id FROM signups WHERE status = 'PENDING' AND next_attempt_at > now() AND ${LEASE_FREE}
                   ORDER BY next_attempt_at LIMIT 1)
         AND status = 'PENDING' AND next_attempt_at > now() + $1 * interval '1 millisecond' AND ${LEASE_FREE}`,
      [withinMs],
    );
    return result.rowCount === 1;
  }

  /**
   * Seconds since the oldest PENDING signup was created, on the database's clock; 0 when none (greatest() skips the
   * NULL). Import rows are left out: they wait their turn at IMPORT_CAPA_RPS for hours (a stalled import has its own
   * alert). The CTE keeps the planner from answering min() by walking signups_created_at_idx past every settled
   * signup (130 ms at 700k rows): it reads signups_live_pending_due_idx, which holds exactly these rows (EXPLAIN
   * ANALYZE: 0.3 ms for 50 of them among 700k signups, 50 ms for 100k).
   */
  async oldestPendingAgeSeconds(): Promise<number> {
    const rows = await this.prisma.$queryRaw<Array<{ age: number }>>`
      WITH live_pending AS MATERIALIZED (SELECT created_at FROM signups WHERE status = 'PENDING' AND import_id IS NULL)
      SELECT greatest(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM live_pending`;
    return rows[0]?.age ?? 0;
  }

  async countByStatus(): Promise<Record<SignupStatus, number>> {
    const groups = await this.prisma.signup.groupBy({ by: ['status'], _count: { _all: true } });
    const counts: Record<SignupStatus, number> = { PENDING: 0, CREATED: 0, FAILED: 0, NEEDS_ATTENTION: 0 };
    for (const group of groups) counts[group.status] = group._count._all;
    return counts;
  }

  private async findById(id: bigint): Promise<SignupRecord | null> {
    const rows = await this.prisma.$queryRaw<Signup[]>`SELECT ${SIGNUP_COLUMNS} FROM signups WHERE id = ${id}`;
    return rows.length === 1 ? toRecord(rows[0]) : null;
  }

  /** One of the HOT_STATEMENTS on the adapter's pool, rows mapped like Prisma's. */
  private async hot(name: RowStatement, values: unknown[]): Promise<SignupRecord[]> {
    // Unnamed statements, like Prisma's own, so a PgBouncer in transaction mode in front of PostgreSQL keeps working.
    const { rows } = await this.prisma.pool.query<Signup>({ text: HOT_STATEMENTS[name], values, types: PRISMA_ROW_TYPES });
    return rows.map(toRecord);
  }
}

