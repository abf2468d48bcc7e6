import { Injectable } from '@nestjs/common';
import type { VerificationAttemptRecord, VerificationOperation } from '../capa/verification-call';
import type { SignupRecord } from '../signups/signup.types';
import { KYC_STATUSES, type KycStatus } from './kyc-status';
import type { Signup } from '../generated/prisma/client';
import { PrismaService } from '../persistence/prisma.service';
import { Transaction, runInTransaction } from '../persistence/transaction';
import type { AttemptActor } from '../signups/signup-rows';
import { PRISMA_ROW_TYPES, SIGNUP_COLUMNS, toRecord } from '../signups/signup-rows';

/** A status set from outside the webhook flow (an operator's refresh), with the one it replaced. */
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

  /** Sets the status read from Capa's details endpoint, answering the row and the status it had, in one statement. */
  async setKycStatus(tx: Transaction, signupId: bigint, status: KycStatus): Promise<KycStatusUpdate | null> {
    const { rows } = await tx.query<Signup & { previousStatus: KycStatus }>({
      text: `UPDATE signups SET kyc_status = $2::"KycStatus", kyc_updated_at = now()
       FROM (SELECT id AS locked_id, kyc_status::text AS previous_status FROM signups WHERE id = $1 FOR UPDATE) AS previous
       WHERE signups.id = previous.locked_id
       RETURNING ${SIGNUP_COLUMNS.sql}, previous.previous_status AS "previousStatus"`,
      values: [signupId, status],
      types: PRISMA_ROW_TYPES,
    });
    const row = rows[0];
    return row === undefined ? null : { signup: toRecord(row), previousStatus: row.previousStatus };
  }

  async countByKycStatus(): Promise<Record<KycStatus, number>> {
    const groups = await this.prisma.signup.groupBy({ by: ['kycStatus'], _count: { _all: true } });
    const counts = Object.fromEntries(KYC_STATUSES.map((status) => [status, 0])) as Record<KycStatus, number>;
    for (const group of groups) counts[group.kycStatus] = group._count._all;
    return counts;
  }
}
