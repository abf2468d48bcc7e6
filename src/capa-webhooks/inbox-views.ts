import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime } from '../common/api-date-time';
import type { StoredInboxEntry, StoredKycEvent } from './webhook-inbox.repository';

/** One entry of `kyc.history` in the admin detail. */
export class KycHistoryView {
  /** @example 'VERIFIED_USER' */
  event: string | null;
  /** kyc.status after this delivery */
  status: string | null;
  @ApiDateTime() receivedAt: string;
  @ApiProperty({ enum: ['applied', 'duplicate', 'unmatched', 'ignored'] }) outcome: string;
}

/** One row of `GET /admin/webhooks`. */
export class InboxEntryView {
  /** @example '42' */
  id: string;
  @ApiDateTime() receivedAt: string;
  @ApiProperty({ enum: ['applied', 'duplicate', 'unmatched', 'unreadable', 'ignored'] }) outcome: string;
  /** @example 'KYC' */
  type: string | null;
  /** @example 'VERIFIED_USER' */
  event: string | null;
  externalUserId: string | null;
  /** SHA-256 of the raw body, hex */
  sha256: string;
  /** The body as received */
  body: string;
  /** `webhook`: a signed delivery; `reconciled`: read back from Capa's notification API */
  @ApiProperty({ enum: ['webhook', 'reconciled'] }) source: string;
  /** Capa's notification id (reconciled entries) */
  notificationId: string | null;
  /** Why the outcome, when it alone does not say: `redelivery` (a duplicate a manual retry caused) */
  outcomeReason: string | null;
}

/** `GET /admin/webhooks` answer. */
export class InboxListView {
  /** Newest first */
  items: InboxEntryView[];
  /** Pass as `cursor` for the next page; null on the last page */
  nextCursor: string | null;
}

/** `webhooks` in `/admin/stats`: stored deliveries by outcome (all replicas) and refused signatures (this process). */
export class WebhookStatsView {
  received: number;
  applied: number;
  duplicate: number;
  unmatched: number;
  unreadable: number;
  ignored: number;
  /** Deliveries refused for a missing or wrong signature, by this process since it started */
  rejectedSignatures: number;
}

export function toKycHistoryView(event: StoredKycEvent): KycHistoryView {
  return { ...event, receivedAt: event.receivedAt.toISOString() };
}

export function toInboxEntryView(entry: StoredInboxEntry): InboxEntryView {
  return { ...entry, id: entry.id.toString(), receivedAt: entry.receivedAt.toISOString() };
}

export function toWebhookStats(byOutcome: Record<string, number>, rejectedSignatures: number): WebhookStatsView {
  const count = (outcome: string) => byOutcome[outcome] ?? 0;
  return {
    received: Object.values(byOutcome).reduce((sum, value) => sum + value, 0),
    applied: count('applied'),
    duplicate: count('duplicate'),
    unmatched: count('unmatched'),
    unreadable: count('unreadable'),
    ignored: count('ignored'),
    rejectedSignatures,
  };
}
