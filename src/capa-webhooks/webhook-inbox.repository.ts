import { Injectable } from '@nestjs/common';
import type { InboxCase, WebhookPlan } from './webhook-plan';
import type { KycStatus } from '../verification/kyc-status';
import { PrismaService } from '../persistence/prisma.service';
import { tracing } from '../tracing/tracing';

/** Capa redelivers a failed webhook for ~31 minutes; an identical non-KYC body within this window is the same event. */
export const DUPLICATE_WINDOW_MS = 60 * 60 * 1000;

/** A signed delivery as the inbox stores it. */
export interface WebhookToRecord {
  /** The signup to lock and apply to; null when the body names none (or is unreadable). */
  externalUserId: string | null;
  type: string | null;
  event: string | null;
  /** SHA-256 of the raw bytes, stored and searchable. */
  sha256: string;
  /** The duplicate key: SHA-256 of the bytes the signature covered. */
  dedupeSha256: string;
  body: string;
  /** The parsed body: the data of a forwarded event (capa.transaction). */
  payload: Record<string, unknown> | null;
  /** The parsed body of any readable delivery: compared as a JSON value (reconciled entries, expected redeliveries). */
  content: Record<string, unknown> | null;
  /** Where it came from: a signed delivery, or Capa's notification API (with Capa's notification id). */
  origin: InboxOrigin;
}

/** `webhook`: a signed POST /webhooks/capa. `reconciled`: a payload read back from Capa's notification API. */
export type InboxSource = 'webhook' | 'reconciled';
export const INBOX_SOURCES: readonly InboxSource[] = ['webhook', 'reconciled'];
export type InboxOrigin = { source: 'webhook' } | { source: 'reconciled'; notificationId: string };

/** What the database found and wrote for one delivery. */
export interface RecordedWebhook {
  inboxId: bigint;
  /** The transaction's time, by the database's clock. */
  receivedAt: Date;
  /** Which entry of the plan was applied; `taken`: the notification was taken in before (nothing written now). */
  found: InboxCase | { key: 'taken' };
  /** `redelivery`: a delivery a manual retry announced, stored as a duplicate whatever the plan said. */
  reason: string | null;
  signupId: bigint | null;
  userId: string | null;
}

/**
 * Capa's webhook deliveries in PostgreSQL. A delivery is one call of capa_record_delivery (one transaction): the
 * user's signup row is locked first (SELECT ... FOR UPDATE), so deliveries for one user apply one after the other
 * and the duplicate checks read what the previous one committed.
 */
@Injectable()
export class WebhookInboxRepository {
  constructor(private readonly prisma: PrismaService) {}

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
        ...(filter.source !== undefined ? { source: filter.source } : {}),
        ...(filter.beforeId !== undefined ? { id: { lt: filter.beforeId } } : {}),
        ...(search !== undefined ? { OR: [{ externalUserId: search }, { sha256: search.toLowerCase() }, { event: search }] } : {}),
      },
      orderBy: { id: 'desc' },
      take: filter.limit + 1,
      select: { id: true, receivedAt: true, outcome: true, type: true, event: true, externalUserId: true, sha256: true, body: true, source: true, notificationId: true, outcomeReason: true },
    });
    return { rows: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
  }

  async countByOutcome(): Promise<Record<string, number>> {
    const groups = await this.prisma.capaWebhookInboxEntry.groupBy({ by: ['outcome'], _count: { _all: true } });
    return Object.fromEntries(groups.map((group) => [group.outcome, group._count._all]));
  }

  /**
   * Everything one delivery changes, in one round trip (capa_record_delivery, in autocommit: the call is the
   * transaction): lock the signup it names, read the inbox for the duplicate rule, then apply the plan's entry for what
   * was found (the status, the outbox events) and write the inbox row.
   *
   * The duplicate rule (it lives only here and in that function; no event id is sent or signed, so content decides):
   * a KYC delivery repeats when its JSON value (`dedupeSha256`) equals the latest KYC body received for that user (a
   * user rejected, retried and rejected again sends the same bytes twice, with another event between them: not a
   * repeat); any other delivery repeats when the same JSON value was received within DUPLICATE_WINDOW_MS.
   */
  async recordWebhook(delivery: WebhookToRecord, plan: WebhookPlan): Promise<RecordedWebhook> {
    const { rows } = await this.prisma.pool.query<RecordWebhookRow>(
      `SELECT inbox_id::text AS "inboxId", received_at AS "receivedAt", decision_key AS "key", signup_id::text AS "signupId",
              capa_user_id AS "userId", previous_kyc_status AS "kycStatus", outcome_reason AS "reason"
       FROM capa_record_delivery($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        delivery.externalUserId,
        delivery.type,
        delivery.event,
        delivery.sha256,
        delivery.dedupeSha256,
        delivery.body,
        delivery.payload === null ? null : JSON.stringify(delivery.payload),
        DUPLICATE_WINDOW_MS / 1000,
        // With tracing on, the events the function writes keep this request's traceparent (beside the plan's keys).
        JSON.stringify(tracing.enabled ? { ...plan, traceParent: tracing.traceparent() } : plan),
        delivery.origin.source,
        delivery.origin.source === 'reconciled' ? delivery.origin.notificationId : null,
        delivery.content === null ? null : JSON.stringify(delivery.content),
      ],
    );
    const row = rows[0];
    const found: RecordedWebhook['found'] = row.key === 'none' || row.key === 'taken' ? { key: row.key } : { key: row.key, kycStatus: row.kycStatus as KycStatus };
    return {
      inboxId: BigInt(row.inboxId),
      receivedAt: row.receivedAt,
      found,
      signupId: row.signupId === null ? null : BigInt(row.signupId),
      userId: row.userId,
      reason: row.reason,
    };
  }
}

interface RecordWebhookRow {
  inboxId: string;
  receivedAt: Date;
  key: 'none' | 'fresh' | 'duplicate' | 'taken';
  signupId: string | null;
  userId: string | null;
  kycStatus: string | null;
  reason: string | null;
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
  source: string;
  notificationId: string | null;
  outcomeReason: string | null;
}

export interface InboxFilter {
  outcome?: string;
  source?: InboxSource;
  /** An exact externalUserId, SHA-256 or event name. */
  search?: string;
  beforeId?: bigint;
  limit: number;
}
