import { Injectable } from '@nestjs/common';
import type { CapaAttemptRecord } from '../capa/capa-outcome';
import type { Transition } from '../signups/signup-state';
import type { SignupRecord, SignupRequest, SignupStatus } from '../signups/signup.types';
import { Prisma, type Signup } from '../generated/prisma/client';
import { types as pgTypes, type CustomTypesConfig } from 'pg';
import { PrismaService } from './prisma.service';

/** `signups` columns under the Prisma model's field names, so raw rows map with toRecord like Prisma's own. */
export const SIGNUP_COLUMNS = Prisma.sql`
  id, external_user_id AS "externalUserId", capa_user_id AS "capaUserId", status::text AS status, method, identifier,
  user_type AS "userType", alias, fingerprint, error_code AS "errorCode", error_message AS "errorMessage",
  attempt_count AS "attemptCount", lease_owner AS "leaseOwner", lease_until AS "leaseUntil",
  next_attempt_at AS "nextAttemptAt", created_at AS "createdAt", updated_at AS "updatedAt",
  kyc_status::text AS "kycStatus", kyc_updated_at AS "kycUpdatedAt", kyc_link_issued_at AS "kycLinkIssuedAt"`;

/**
 * The signup flow's own statements: every new signup runs insertPending, recordAttempt and applyTransition, and every
 * uncached read or replay findByExternalUserId. They run on the driver adapter's pg pool, not through Prisma's query
 * engine, which cost ~200 µs of CPU per statement (more than the whole rest of a request) and held new signups to
 * ~0.45x of raw pg (measured; BENCHMARKS.md). Everything else (the worker, operators, stats) goes through Prisma's
 * client. The rows are the Prisma model's (test/signup-repository.e2e-spec.ts).
 */
const HOT_STATEMENTS = {
  findByExternalUserId: `SELECT ${SIGNUP_COLUMNS.sql} FROM signups WHERE external_user_id = $1`,
  insertPending: `
    INSERT INTO signups (external_user_id, method, identifier, user_type, alias, fingerprint, status,
                         lease_owner, lease_until, next_attempt_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', $7, $8, $8, $9, $9)
    ON CONFLICT (external_user_id) DO NOTHING
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  // CREATED always wins: a userId from Capa is the truth, whoever holds the lease.
  settleCreated: `
    UPDATE signups SET status = 'CREATED', capa_user_id = $2, error_code = NULL, error_message = NULL,
                       next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL,
                       attempt_count = attempt_count + $3, updated_at = $4
    WHERE id = $1 AND status = 'PENDING'
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  // Any other outcome only by the lease holder.
  settleOther: `
    UPDATE signups SET status = $2::"SignupStatus", error_code = $3, error_message = $4, next_attempt_at = $5,
                       lease_owner = NULL, lease_until = NULL, attempt_count = attempt_count + $6, updated_at = $7
    WHERE id = $1 AND status = 'PENDING' AND lease_owner = $8
    RETURNING ${SIGNUP_COLUMNS.sql}`,
  recordAttempt: `
    INSERT INTO capa_attempts (signup_id, at, actor, outcome, http_status, latency_ms, error_code, error_message)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
} as const;

/** Values typed as Prisma types them: BIGINT as bigint (pg's default is a string); the rest as pg parses them. */
const PRISMA_ROW_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgTypes.builtins.INT8 && format !== 'binary' ? (value: string) => BigInt(value) : pgTypes.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** Who made an attempt: a caller's request, the background worker, or an operator. */
export type AttemptActor = 'request' | 'worker' | 'operator';

/** A lease on a PENDING row: who holds it and until when. */
export interface Lease {
  owner: string;
  until: Date;
}

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
    // If this owner dies, the row is due for the worker as soon as its lease runs out (next_attempt_at = lease_until).
    const rows = await this.hot('insertPending', [externalUserId, method, identifier, userType, alias, fingerprint, lease.owner, lease.until, now]);
    return rows[0] ?? null;
  }

  /** Takes the lease of a PENDING row whose lease is free; null when someone else holds it or it settled. */
  async claimPending(id: bigint, lease: Lease, now: Date): Promise<SignupRecord | null> {
    const rows = await this.prisma.signup.updateManyAndReturn({
      where: { id, status: 'PENDING', OR: [{ leaseUntil: null }, { leaseUntil: { lte: now } }] },
      data: { leaseOwner: lease.owner, leaseUntil: lease.until, nextAttemptAt: lease.until, updatedAt: now },
    });
    return rows.length === 1 ? toRecord(rows[0]) : null;
  }

  /** A corrected payload takes over a FAILED row, as long as nobody changed it since it was read. */
  async replaceFailed(previous: SignupRecord, request: SignupRequest, lease: Lease, now: Date): Promise<SignupRecord | null> {
    const rows = await this.prisma.signup.updateManyAndReturn({
      where: { id: previous.id, status: 'FAILED', fingerprint: previous.fingerprint },
      data: {
        ...payloadOf(request),
        status: 'PENDING',
        errorCode: null,
        errorMessage: null,
        leaseOwner: lease.owner,
        leaseUntil: lease.until,
        nextAttemptAt: lease.until,
        updatedAt: now,
      },
    });
    return rows.length === 1 ? toRecord(rows[0]) : null;
  }

  /**
   * Applies a transition to a PENDING row. CREATED always wins (a userId from Capa is the truth);
   * the other transitions only by the lease holder. Null when the row was not ours to change.
   */
  async applyTransition(id: bigint, owner: string, transition: Transition, attempts: number, now: Date): Promise<SignupRecord | null> {
    const rows =
      transition.status === 'CREATED'
        ? await this.hot('settleCreated', [id, transition.capaUserId, attempts, now])
        : await this.hot('settleOther', [
            id,
            transition.status,
            transition.errorCode,
            transition.errorMessage,
            transition.status === 'PENDING' ? transition.nextAttemptAt : null,
            attempts,
            now,
            owner,
          ]);
    return rows[0] ?? null;
  }

  /**
   * The worker's pick: due PENDING rows whose lease is free, locked with SKIP LOCKED so replicas never pick the same
   * row, leased to `owner` in the same statement. Served by the partial index signups_pending_due_idx.
   */
  async claimDue(owner: string, leaseMs: number, limit: number, now: Date): Promise<SignupRecord[]> {
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const rows = await this.prisma.$queryRaw<Signup[]>`
      UPDATE signups SET lease_owner = ${owner}, lease_until = ${leaseUntil}, next_attempt_at = ${leaseUntil}, updated_at = ${now}
      WHERE id IN (
        SELECT id FROM signups
        WHERE status = 'PENDING' AND next_attempt_at <= ${now} AND (lease_until IS NULL OR lease_until <= ${now})
        ORDER BY next_attempt_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING ${SIGNUP_COLUMNS}`;
    return rows.map(toRecord);
  }

  /**
   * An operator's re-drive: a FAILED or NEEDS_ATTENTION row, or a PENDING one nobody holds, goes back to PENDING
   * under this lease. Null when the row is CREATED or someone else holds its lease.
   */
  async takeForRedrive(id: bigint, lease: Lease, now: Date): Promise<SignupRecord | null> {
    const rows = await this.prisma.signup.updateManyAndReturn({
      where: {
        id,
        OR: [
          { status: { in: ['FAILED', 'NEEDS_ATTENTION'] } },
          { status: 'PENDING', OR: [{ leaseUntil: null }, { leaseUntil: { lte: now } }] },
        ],
      },
      data: { status: 'PENDING', leaseOwner: lease.owner, leaseUntil: lease.until, nextAttemptAt: lease.until, updatedAt: now },
    });
    return rows.length === 1 ? toRecord(rows[0]) : null;
  }

  /** PENDING rows due now or overdue: the worker's backlog. */
  async countDue(now: Date): Promise<number> {
    return this.prisma.signup.count({ where: { status: 'PENDING', nextAttemptAt: { lte: now } } });
  }

  async recordAttempt(signupId: bigint, actor: AttemptActor, attempt: CapaAttemptRecord): Promise<void> {
    const { at, outcome, httpStatus, latencyMs, errorCode, errorMessage } = attempt;
    await this.prisma.pool.query({
      text: HOT_STATEMENTS.recordAttempt,
      values: [signupId, at, actor, outcome, httpStatus, latencyMs, errorCode, errorMessage],
    });
  }

  /** Lets go of every lease this owner holds (graceful shutdown) so another replica can take the rows at once. */
  async releaseLeases(owner: string, now: Date): Promise<number> {
    const { count } = await this.prisma.signup.updateMany({
      where: { leaseOwner: owner, status: 'PENDING' },
      data: { leaseOwner: null, leaseUntil: null, nextAttemptAt: now, updatedAt: now },
    });
    return count;
  }

  async countByStatus(): Promise<Record<SignupStatus, number>> {
    const groups = await this.prisma.signup.groupBy({ by: ['status'], _count: { _all: true } });
    const counts: Record<SignupStatus, number> = { PENDING: 0, CREATED: 0, FAILED: 0, NEEDS_ATTENTION: 0 };
    for (const group of groups) counts[group.status] = group._count._all;
    return counts;
  }

  /** One of the HOT_STATEMENTS on the adapter's pool, rows mapped like Prisma's. */
  private async hot(name: Exclude<keyof typeof HOT_STATEMENTS, 'recordAttempt'>, values: unknown[]): Promise<SignupRecord[]> {
    // Unnamed statements, like Prisma's own, so a PgBouncer in transaction mode in front of PostgreSQL keeps working.
    const { rows } = await this.prisma.pool.query<Signup>({ text: HOT_STATEMENTS[name], values, types: PRISMA_ROW_TYPES });
    return rows.map(toRecord);
  }
}

function payloadOf(request: SignupRequest) {
  return {
    externalUserId: request.externalUserId,
    method: request.method,
    identifier: request.identifier,
    userType: request.userType,
    alias: request.alias,
    fingerprint: request.fingerprint,
  };
}

export function toRecord(row: Signup): SignupRecord {
  return {
    ...row,
    method: row.method as SignupRecord['method'],
    userType: row.userType as SignupRecord['userType'],
  };
}
