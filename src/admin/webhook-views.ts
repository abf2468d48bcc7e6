import type { StoredInboxEntry, StoredKycEvent } from '../capa-webhooks/webhook-inbox.repository';

/** One entry of `kyc.history` in the admin detail. */
export interface KycHistoryView {
  event: string | null;
  status: string | null;
  receivedAt: string;
  outcome: string;
}

/** One row of `GET /admin/webhooks`. */
export interface InboxEntryView {
  id: string;
  receivedAt: string;
  outcome: string;
  type: string | null;
  event: string | null;
  externalUserId: string | null;
  sha256: string;
  body: string;
}

export interface InboxListView {
  items: InboxEntryView[];
  nextCursor: string | null;
}

/** `webhooks` in `/admin/stats`: stored deliveries by outcome (all replicas) and refused signatures (this process). */
export interface WebhookStatsView {
  received: number;
  applied: number;
  duplicate: number;
  unmatched: number;
  unreadable: number;
  ignored: number;
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
