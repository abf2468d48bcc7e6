import type { EventOf } from '../events/event.types';
import { KYC_STATUSES, type KycStatus } from '../verification/kyc-status';
import { type CapaWebhook, type InboxOutcome, decideWebhook } from './capa-webhook';

/** What a delivery writes, once the database has said whose signup it names and whether it repeats an earlier one. */
export interface WebhookEffect {
  outcome: InboxOutcome;
  /** The KYC status the inbox row records (KYC deliveries for a known user), else null. */
  inboxKycStatus: KycStatus | null;
  /** The status written to the signup (with kyc_updated_at); null leaves the signup alone. */
  newKycStatus: KycStatus | null;
  /** Outbox events, for the signup's externalUserId and Capa userId; `capa.transaction` carries the delivery's payload. */
  events: Array<EventOf<'kyc.status_changed'> | { type: 'capa.transaction' }>;
}

/**
 * A delivery's effect for every state the database can find it in: no signup (`none`), or the signup's current KYC
 * status with the delivery new (`fresh`) or a repeat (`duplicate`) by the inbox's rule (WebhookInboxRepository). Lets one
 * statement (capa_record_delivery) lock the signup, read the inbox and apply decideWebhook's verdict in one round trip.
 */
export interface WebhookPlan {
  none: WebhookEffect;
  fresh: Record<KycStatus, WebhookEffect>;
  duplicate: Record<KycStatus, WebhookEffect>;
}

export type InboxCase = { key: 'none' } | { key: 'fresh' | 'duplicate'; kycStatus: KycStatus };

/** `reconciled`: the payload was read back from Capa's notification API; its `kyc.status_changed` says so in `data.source`. */
export function planWebhook(delivery: CapaWebhook, source: 'webhook' | 'reconciled' = 'webhook'): WebhookPlan {
  const byStatus = (duplicate: boolean) =>
    Object.fromEntries(KYC_STATUSES.map((status) => [status, effectOf(delivery, { kycStatus: status }, duplicate, source)])) as Record<KycStatus, WebhookEffect>;
  return { none: effectOf(delivery, null, false, source), fresh: byStatus(false), duplicate: byStatus(true) };
}

export function effectFor(plan: WebhookPlan, found: InboxCase): WebhookEffect {
  return found.key === 'none' ? plan.none : plan[found.key][found.kycStatus];
}

function effectOf(delivery: CapaWebhook, signup: { kycStatus: KycStatus } | null, duplicate: boolean, source: 'webhook' | 'reconciled'): WebhookEffect {
  const { type, event } = delivery;
  const decision = decideWebhook(delivery, signup, duplicate);
  const effect: WebhookEffect = { outcome: decision.outcome, inboxKycStatus: type === 'KYC' ? decision.kycStatus : null, newKycStatus: null, events: [] };
  if (signup === null || decision.outcome !== 'applied') return effect;
  if (type === 'KYC' && decision.kycStatus !== null && event !== null) {
    effect.newKycStatus = decision.kycStatus;
    if (decision.kycStatus !== signup.kycStatus) {
      const data = { status: decision.kycStatus, previousStatus: signup.kycStatus, capaEvent: event, ...(source === 'reconciled' ? { source } : {}) };
      effect.events.push({ type: 'kyc.status_changed', data });
    }
  } else if (type === 'TRANSACTION' && delivery.payload !== null) {
    effect.events.push({ type: 'capa.transaction' });
  }
  return effect;
}
