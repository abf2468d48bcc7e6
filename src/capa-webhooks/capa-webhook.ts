import { createHash } from 'node:crypto';
import { decideKycEvent, type KycStatus } from '../verification/kyc-status';

export const INBOX_OUTCOMES = ['applied', 'duplicate', 'unmatched', 'unreadable', 'ignored'] as const;
export type InboxOutcome = (typeof INBOX_OUTCOMES)[number];

/** A signed delivery as received: its raw bytes, their SHA-256, and the fields this service reads, if readable. */
export interface CapaWebhook {
  raw: Buffer;
  sha256: string;
  /**
   * The duplicate key: SHA-256 of the bytes the signature covered (the raw body, or its re-serialised form when that is
   * what was signed), so a re-spaced copy of a delivery signed over its canonical form is the same delivery.
   */
  dedupeSha256: string;
  /** False when the body is not a JSON object: stored as it is, answered 200, never interpreted. */
  readable: boolean;
  type: string | null;
  event: string | null;
  externalUserId: string | null;
  /** The parsed body (TRANSACTION events are forwarded as Capa sent them). */
  payload: Record<string, unknown> | null;
}

/** What PostgreSQL text and jsonb cannot hold (U+0000) is stored as U+FFFD, in the body and in every parsed string. */
export const NUL_REPLACEMENT = '\uFFFD';

/** `verifiedCanonical`: the re-serialised text the signature covered, when it was not the raw bytes. */
export function readWebhook(raw: Buffer, verifiedCanonical?: string): CapaWebhook {
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const dedupeSha256 = verifiedCanonical === undefined ? sha256 : createHash('sha256').update(verifiedCanonical).digest('hex');
  let parsed: unknown;
  try {
    parsed = withoutNul(JSON.parse(raw.toString('utf8')));
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { raw, sha256, dedupeSha256, readable: false, type: null, event: null, externalUserId: null, payload: null };
  }
  const payload = parsed as Record<string, unknown>;
  return {
    raw,
    sha256,
    dedupeSha256,
    readable: true,
    type: text(payload.type),
    event: text(payload.event),
    externalUserId: text(payload.externalUserId),
    payload,
  };
}

/** The body as the inbox stores it: UTF-8 text with U+0000 replaced (the SHA-256 still names the exact bytes). */
export function storableBody(raw: Buffer): string {
  return raw.toString('utf8').replaceAll('\u0000', NUL_REPLACEMENT);
}

function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', NUL_REPLACEMENT);
  if (Array.isArray(value)) return value.map(withoutNul);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key.replaceAll('\u0000', NUL_REPLACEMENT), withoutNul(entry)]));
  }
  return value;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 512) : null;
}

/** What a delivery comes to, and the KYC status it leaves the user in (KYC deliveries for a known user). */
export interface WebhookDecision {
  outcome: InboxOutcome;
  kycStatus: KycStatus | null;
}

/**
 * The inbox's rules, in order: not JSON -> unreadable; an unknown type, no user or an unknown user -> unmatched;
 * a repeat -> duplicate; a KYC event -> decideKycEvent; a TRANSACTION event -> applied. Whether the delivery repeats an
 * earlier one is the inbox's verdict (`repeat`: WebhookInboxRepository.recordWebhook states the rule, the database
 * applies it under the signup's lock).
 */
export function decideWebhook(delivery: CapaWebhook, signup: { kycStatus: KycStatus } | null, repeat: boolean): WebhookDecision {
  if (!delivery.readable) return { outcome: 'unreadable', kycStatus: null };
  const { type, event } = delivery;
  if ((type !== 'KYC' && type !== 'TRANSACTION') || event === null || signup === null) return { outcome: 'unmatched', kycStatus: null };
  const kycStatus = type === 'KYC' ? signup.kycStatus : null;
  if (repeat) return { outcome: 'duplicate', kycStatus };
  if (type === 'TRANSACTION') return { outcome: 'applied', kycStatus: null };
  const decision = decideKycEvent(signup.kycStatus, event);
  return { outcome: decision.outcome, kycStatus: decision.status };
}
