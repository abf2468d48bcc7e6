import { Injectable } from '@nestjs/common';
import type { HourlySignupCount, SignupListFilter, SignupPage, StoredAttempt } from './admin.types';
import type { SignupRecord, SignupStatus } from '../signups/signup.types';
import { Prisma, type Signup } from '../generated/prisma/client';
import { outboxInsertForSettled, settledEventsParam, signupSettled } from '../events/signup-events';
import { PrismaService } from '../persistence/prisma.service';
import { PRISMA_ROW_TYPES, SIGNUP_COLUMNS, isUniqueViolation, toRecord } from '../signups/signup-rows';

/** The operators' reads and repairs of signups. Every query here is shaped to be served by an index. */
@Injectable()
export class AdminRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Newest first, keyset-paginated on id. Served by the primary key (no status), signups_status_id_idx (status),
   * and for a search by a BitmapOr of the prefix, capa_user_id and identifier indexes.
   */
  async listSignups(filter: SignupListFilter): Promise<SignupPage> {
    const conditions: Prisma.Sql[] = [];
    if (filter.status !== undefined) conditions.push(Prisma.sql`status = ${filter.status}::"SignupStatus"`);
    if (filter.kycStatus !== undefined) conditions.push(Prisma.sql`kyc_status = ${filter.kycStatus}::"KycStatus"`);
    if (filter.beforeId !== undefined) conditions.push(Prisma.sql`id < ${filter.beforeId}`);
    if (filter.search !== undefined) {
      conditions.push(
        Prisma.sql`(external_user_id LIKE ${likePrefix(filter.search)} OR capa_user_id = ${filter.search} OR identifier = ${filter.search})`,
      );
    }
    const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
    // Same order (status is fixed), but spelled as signups_status_id_idx's key so the planner never prefers a
    // backward primary-key scan that filters through millions of rows when the status is rare among recent ones.
    // Qualified: a bare `status` would mean the selected `status::text` and defeat the index.
    const order =
      filter.status !== undefined
        ? Prisma.sql`ORDER BY signups.status, signups.id DESC`
        : filter.kycStatus !== undefined
          ? Prisma.sql`ORDER BY signups.kyc_status, signups.id DESC`
          : Prisma.sql`ORDER BY id DESC`;
    const rows = await this.prisma.$queryRaw<Signup[]>`
      SELECT ${SIGNUP_COLUMNS} FROM signups ${where} ${order} LIMIT ${filter.limit + 1}`;
    return { rows: rows.slice(0, filter.limit).map(toRecord), hasMore: rows.length > filter.limit };
  }

  /** The signup a Capa userId is attached to, if any (unique index signups_capa_user_id_key). */
  async findByUserId(userId: string): Promise<SignupRecord | null> {
    const row = await this.prisma.signup.findFirst({ where: { userId } });
    return row && toRecord(row);
  }

  /** The attempts log of one signup, newest first (index capa_attempts_signup_id_id_idx). */
  async listAttempts(signupId: bigint, limit: number): Promise<StoredAttempt[]> {
    return this.prisma.capaAttempt.findMany({
      where: { signupId },
      orderBy: { id: 'desc' },
      take: limit,
      select: { at: true, actor: true, operation: true, outcome: true, httpStatus: true, latencyMs: true, errorCode: true, errorMessage: true },
    });
  }

  /**
   * Attaches a Capa userId an operator found to a NEEDS_ATTENTION or FAILED row, logs it as an operator attempt and
   * writes its signup.created event, in one statement. `null` row when the row does not exist or is in another state; `taken` when another signup holds
   * that userId, decided by the unique index signups_capa_user_id_key (two concurrent resolves cannot both win).
   */
  async attachUserId(externalUserId: string, userId: string, now: Date): Promise<{ taken: true } | { taken: false; row: SignupRecord | null }> {
    try {
      const { rows } = await this.prisma.pool.query<Signup>({
        text: `
          WITH resolved AS (
            UPDATE signups
            SET status = 'CREATED', capa_user_id = $2, error_code = NULL, error_message = NULL,
                lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = $3
            WHERE external_user_id = $1 AND status IN ('NEEDS_ATTENTION', 'FAILED')
            RETURNING *
          ), logged AS (
            INSERT INTO capa_attempts (signup_id, at, actor, operation, outcome, http_status, latency_ms, capa_user_id)
            SELECT id, $3, 'operator', 'resolve', 'resolved', NULL, 0, $2 FROM resolved
          ), settled AS (
            SELECT ${SIGNUP_COLUMNS.sql} FROM resolved
          ), event AS (${outboxInsertForSettled('$4')})
          SELECT * FROM settled`,
        values: [externalUserId, userId, now, settledEventsParam(signupSettled('CREATED'))],
        types: PRISMA_ROW_TYPES,
      });
      return { taken: false, row: rows.length === 1 ? toRecord(rows[0]) : null };
    } catch (error) {
      if (isUniqueViolation(error, 'signups_capa_user_id_key')) return { taken: true };
      throw error;
    }
  }

  /** Signups created since `since`, counted per UTC hour and status. */
  async countCreatedPerHour(since: Date): Promise<HourlySignupCount[]> {
    const rows = await this.prisma.$queryRaw<Array<{ bucket: string; status: SignupStatus; count: number }>>`
      SELECT to_char(date_trunc('hour', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24:00:00.000"Z"') AS bucket,
             status::text AS status, count(*)::int AS count
      FROM signups
      WHERE created_at >= ${since}
      GROUP BY 1, 2`;
    return rows;
  }
}

/** A LIKE pattern matching values that start with `prefix` literally: `\`, `%` and `_` are escaped. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
}
