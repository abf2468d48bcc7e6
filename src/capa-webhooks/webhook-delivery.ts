import { createHash } from 'node:crypto';
import { decideKycEvent, type KycStatus } from '../verification/kyc-status';
import { isDuplicateDelivery, type EarlierDeliveries } from '../verification/webhook-duplicates';

export const DELIVERY_OUTCOMES = ['applied', 'duplicate', 'unmatched', 'unreadable', 'ignored'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** A signed delivery as received: its raw bytes, their SHA-256, and the fields this service reads, if readable. */
export interface CapaDelivery {
  raw: Buffer;
  sha256: string;
  /** False when the body is not a JSON object: stored as it is, answered 200, never interpreted. */
  readable: boolean;
  type: string | null;
  event: string | null;
  externalUserId: string | null;
  /** The parsed body (TRANSACTION events are forwarded as Capa sent them). */
  payload: Record<string, unknown> | null;
}

export function readDelivery(raw: Buffer): CapaDelivery {
  const sha256 = createHash('sha256').update(raw).digest('hex');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { raw, sha256, readable: false, type: null, event: null, externalUserId: null, payload: null };
  }
  const payload = parsed as Record<string, unknown>;
  return { raw, sha256, readable: true, type: text(payload.type), event: text(payload.event), externalUserId: text(payload.externalUserId), payload };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 512) : null;
}

/** What a delivery comes to, and the KYC status it leaves the user in (KYC deliveries for a known user). */
export interface DeliveryDecision {
  outcome: DeliveryOutcome;
  kycStatus: KycStatus | null;
}

/**
 * The inbox's rules, in order: not JSON -> unreadable; an unknown type, no user or an unknown user -> unmatched;
 * a repeat (see isDuplicateDelivery) -> duplicate; a KYC event -> decideKycEvent; a TRANSACTION event -> applied.
 */
export function decideDelivery(delivery: CapaDelivery, signup: { kycStatus: KycStatus } | null, earlier: EarlierDeliveries): DeliveryDecision {
  if (!delivery.readable) return { outcome: 'unreadable', kycStatus: null };
  const { type, event } = delivery;
  if ((type !== 'KYC' && type !== 'TRANSACTION') || event === null || signup === null) return { outcome: 'unmatched', kycStatus: null };
  const kycStatus = type === 'KYC' ? signup.kycStatus : null;
  if (isDuplicateDelivery(type, delivery.sha256, earlier)) return { outcome: 'duplicate', kycStatus };
  if (type === 'TRANSACTION') return { outcome: 'applied', kycStatus: null };
  const decision = decideKycEvent(signup.kycStatus, event);
  return { outcome: decision.outcome, kycStatus: decision.status };
}
