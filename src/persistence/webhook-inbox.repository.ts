import { Injectable } from '@nestjs/common';
import type { DeliveryOutcome } from '../capa-webhooks/webhook-delivery';
import type { KycStatus } from '../verification/kyc-status';
import { DUPLICATE_WINDOW_MS } from '../verification/webhook-duplicates';
import { outboxInsertFromJson } from '../events/outbox-writer';
import type { OutboxEventInput } from '../events/event.types';
import { PrismaService } from './prisma.service';
import { Transaction, runInTransaction } from './transaction';

/** A delivery's transaction: every statement of one delivery runs on it between BEGIN and COMMIT. */
export type InboxTransaction = Transaction;

/** The signup a delivery names, locked for the rest of the transaction. */
export interface LockedSignup {
  id: bigint;
  externalUserId: string;
  capaUserId: string | null;
  kycStatus: KycStatus;
}

/** One inbox row as it is written. */
export interface NewInboxEntry {
  sha256: string;
  body: string;
  outcome: DeliveryOutcome;
  type: string | null;
  event: string | null;
  externalUserId: string | null;
  signupId: bigint | null;
  kycStatus: KycStatus | null;
}

/**
 * Capa's webhook deliveries in PostgreSQL. A delivery is handled in one transaction on one pooled connection: the
 * user's signup row is locked first (SELECT ... FOR UPDATE), so deliveries for one user apply one after the other
 * and the duplicate checks read what the previous one committed.
 */
@Injectable()
export class WebhookInboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  inTransaction<T>(work: (tx: InboxTransaction) => Promise<T>): Promise<T> {
    return runInTransaction(this.prisma.pool, work);
  }

  async lockSignup(tx: InboxTransaction, externalUserId: string): Promise<LockedSignup | null> {
    const { rows } = await tx.query<{ id: string; capaUserId: string | null; kycStatus: KycStatus }>(
      `SELECT id::text AS id, capa_user_id AS "capaUserId", kyc_status::text AS "kycStatus"
       FROM signups WHERE external_user_id = $1 FOR UPDATE`,
      [externalUserId],
    );
    const row = rows[0];
    return row === undefined ? null : { id: BigInt(row.id), externalUserId, capaUserId: row.capaUserId, kycStatus: row.kycStatus };
  }

  /** The SHA-256 of the latest KYC body received for this user (index capa_webhook_inbox_external_user_id_type_id_idx). */
  async latestKycSha256(tx: InboxTransaction, externalUserId: string): Promise<string | null> {
    const { rows } = await tx.query<{ sha256: string }>(
      `SELECT sha256 FROM capa_webhook_inbox WHERE external_user_id = $1 AND type = 'KYC' ORDER BY id DESC LIMIT 1`,
      [externalUserId],
    );
    return rows[0]?.sha256 ?? null;
  }

  /** Whether an identical body arrived within the duplicate window, by the database's clock. */
  async identicalWithinWindow(tx: InboxTransaction, sha256: string): Promise<boolean> {
    const { rows } = await tx.query(
      `SELECT 1 FROM capa_webhook_inbox WHERE sha256 = $1 AND received_at > now() - make_interval(secs => $2) LIMIT 1`,
      [sha256, DUPLICATE_WINDOW_MS / 1000],
    );
    return rows.length > 0;
  }

  /** Every KYC delivery received for this user, newest first: the user's KYC history. */
  async kycHistory(externalUserId: string, limit: number): Promise<StoredKycEvent[]> {
    const rows = await this.prisma.capaWebhookInboxEntry.findMany({
      where: { externalUserId, type: 'KYC' },
      orderBy: { id: 'desc' },
      take: limit,
      select: { event: true, kycStatus: true, receivedAt: true, outcome: true },
    });
    return rows.map(({ kycStatus, ...row }) => ({ ...row, status: kycStatus }));
  }

  /** The inbox newest first, keyset-paginated on id (capa_webhook_inbox_outcome_id_idx with an outcome). */
  async listEntries(filter: InboxFilter): Promise<{ rows: StoredInboxEntry[]; hasMore: boolean }> {
    const search = filter.search;
    const rows = await this.prisma.capaWebhookInboxEntry.findMany({
      where: {
        ...(filter.outcome !== undefined ? { outcome: filter.outcome } : {}),
        ...(filter.beforeId !== undefined ? { id: { lt: filter.beforeId } } : {}),
        ...(search !== undefined ? { OR: [{ externalUserId: search }, { sha256: search.toLowerCase() }, { event: search }] } : {}),
      },
      orderBy: { id: 'desc' },
      take: filter.limit + 1,
      select: { id: true, receivedAt: true, outcome: true, type: true, event: true, externalUserId: true, sha256: true, body: true },
    });
    return { rows: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
  }

  async countByOutcome(): Promise<Record<string, number>> {
    const groups = await this.prisma.capaWebhookInboxEntry.groupBy({ by: ['outcome'], _count: { _all: true } });
    return Object.fromEntries(groups.map((group) => [group.outcome, group._count._all]));
  }

  /**
   * What one delivery changes, in one statement (one round trip): the user's KYC status when `statusChange` is given,
   * the outbox rows of `events` (OutboxEventInput[]), and the inbox row.
   */
  async recordDelivery(
    tx: InboxTransaction,
    entry: NewInboxEntry,
    statusChange: { signupId: bigint; status: KycStatus } | null,
    events: readonly OutboxEventInput[],
  ): Promise<{ id: bigint; receivedAt: Date }> {
    const { rows } = await tx.query<{ id: string; receivedAt: Date }>(
      `WITH status AS (
         UPDATE signups SET kyc_status = $10::"KycStatus", kyc_updated_at = now() WHERE id = $9
       ), events AS (${outboxInsertFromJson('$11')})
       INSERT INTO capa_webhook_inbox (sha256, body, outcome, type, event, external_user_id, signup_id, kyc_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::"KycStatus")
       RETURNING id::text AS id, received_at AS "receivedAt"`,
      [
        entry.sha256,
        entry.body,
        entry.outcome,
        entry.type,
        entry.event,
        entry.externalUserId,
        entry.signupId,
        entry.kycStatus,
        // No change: no signup id matches NULL, so the UPDATE touches nothing.
        statusChange?.signupId ?? null,
        statusChange?.status ?? null,
        JSON.stringify(events),
      ],
    );
    return { id: BigInt(rows[0].id), receivedAt: rows[0].receivedAt };
  }
}

/** One KYC event in a user's history (from the inbox). */
export interface StoredKycEvent {
  event: string | null;
  status: KycStatus | null;
  receivedAt: Date;
  outcome: string;
}

/** One inbox row as operators see it. */
export interface StoredInboxEntry {
  id: bigint;
  receivedAt: Date;
  outcome: string;
  type: string | null;
  event: string | null;
  externalUserId: string | null;
  sha256: string;
  body: string;
}

export interface InboxFilter {
  outcome?: string;
  /** An exact externalUserId, SHA-256 or event name. */
  search?: string;
  beforeId?: bigint;
  limit: number;
}
