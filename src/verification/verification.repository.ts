import { Injectable } from '@nestjs/common';
import type { VerificationAttemptRecord, VerificationOperation } from '../capa/verification-call';
import type { SignupRecord } from '../signups/signup.types';
import { KYC_STATUSES, type KycStatus } from './kyc-status';
import type { Signup } from '../generated/prisma/client';
import { PrismaService } from '../persistence/prisma.service';
import { Transaction, runInTransaction } from '../persistence/transaction';
import type { AttemptActor } from '../signups/signup-rows';
import { PRISMA_ROW_TYPES, SIGNUP_COLUMNS, toRecord } from '../signups/signup-rows';

/** A status set from outside the webhook flow (an operator's refresh, the poll fallback), with the one it replaced. */
export interface KycStatusUpdate {
  signup: SignupRecord;
  previousStatus: KycStatus;
}

/** Identity verification's own writes and reads on signups and the attempts log. */
@Injectable()
export class VerificationRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** `country`: the one a link was asked for (link calls), so the timeline can say which; never the link. */
  async recordAttempt(signupId: bigint, actor: AttemptActor, operation: VerificationOperation, attempt: VerificationAttemptRecord, country: string | null): Promise<void> {
    const { at, outcome, httpStatus, latencyMs, errorCode, errorMessage } = attempt;
    await this.prisma.pool.query(
      `INSERT INTO capa_attempts (signup_id, at, actor, operation, outcome, http_status, latency_ms, error_code, error_message, country)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [signupId, at, actor, operation, outcome, httpStatus, latencyMs, errorCode, errorMessage, country],
    );
  }

  /** Notes that a link was issued now (the link itself is never stored); answers the time, by the database's clock. */
  async markLinkIssued(signupId: bigint): Promise<Date> {
    const { rows } = await this.prisma.pool.query<{ issuedAt: Date }>(
      `UPDATE signups SET kyc_link_issued_at = now() WHERE id = $1 RETURNING kyc_link_issued_at AS "issuedAt"`,
      [signupId],
    );
    return rows[0]?.issuedAt ?? new Date();
  }

  inTransaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return runInTransaction(this.prisma.pool, work);
  }

  /**
   * Sets the status a details verdict calls for, decided on the locked row (`decide` answers the new status or null
   * for no change), so a webhook applied meanwhile is never overwritten by a stale read. Answers the row and the
   * status it had; null when the signup is gone.
   */
  async setKycStatus(tx: Transaction, signupId: bigint, decide: (current: KycStatus) => KycStatus | null): Promise<KycStatusUpdate | null> {
    const locked = await tx.query<{ status: KycStatus }>('SELECT kyc_status::text AS status FROM signups WHERE id = $1 FOR UPDATE', [signupId]);
    if (locked.rows[0] === undefined) return null;
    const previousStatus = locked.rows[0].status;
    const next = decide(previousStatus);
    const { rows } = await tx.query<Signup>({
      text:
        next === null
          ? `SELECT ${SIGNUP_COLUMNS.sql} FROM signups WHERE id = $1`
          : `UPDATE signups SET kyc_status = $2::"KycStatus", kyc_updated_at = now() WHERE id = $1 RETURNING ${SIGNUP_COLUMNS.sql}`,
      values: next === null ? [signupId] : [signupId, next],
      types: PRISMA_ROW_TYPES,
    });
    return rows[0] === undefined ? null : { signup: toRecord(rows[0]), previousStatus };
  }

  async countByKycStatus(): Promise<Record<KycStatus, number>> {
    const groups = await this.prisma.signup.groupBy({ by: ['kycStatus'], _count: { _all: true } });
    const counts = Object.fromEntries(KYC_STATUSES.map((status) => [status, 0])) as Record<KycStatus, number>;
    for (const group of groups) counts[group.kycStatus] = group._count._all;
    return counts;
  }
}
