import { KYC_STATUSES, type KycStatus } from '../capa/capa-vocabulary';

// Capa's vocabulary lives with the gateway; the rules below give it meaning. Re-exported for this feature's readers.
export { KYC_STATUSES, verificationKindFor } from '../capa/capa-vocabulary';
export type { KycStatus, VerificationKind } from '../capa/capa-vocabulary';

/** Capa's KYC webhook events and the status each one means. */
export const KYC_EVENT_STATUS: Readonly<Record<string, KycStatus>> = Object.freeze({
  CREATED_KYC: 'IN_PROGRESS',
  REVIEW_NEEDED_KYC: 'REVIEW_NEEDED',
  VERIFIED_USER: 'VERIFIED',
  REJECTED_KYC: 'REJECTED',
});

/** Events that only say "started" or "under review": a late redelivery of one must not undo a verification. */
const NEVER_OVER_VERIFIED: ReadonlySet<string> = new Set(['CREATED_KYC', 'REVIEW_NEEDED_KYC']);

/** What a (non-duplicate) KYC event does to a known user's status. */
export type KycDecision =
  | { outcome: 'applied'; status: KycStatus }
  | { outcome: 'ignored'; status: KycStatus }
  | { outcome: 'unmatched'; status: KycStatus };

/**
 * KYC events apply in arrival order, except that CREATED_KYC and REVIEW_NEEDED_KYC never overwrite VERIFIED
 * (Capa redelivers for ~31 minutes, so a late one is expected). An unknown event name changes nothing.
 */
export function decideKycEvent(current: KycStatus, event: string): KycDecision {
  const next = Object.hasOwn(KYC_EVENT_STATUS, event) ? KYC_EVENT_STATUS[event] : undefined;
  if (next === undefined) return { outcome: 'unmatched', status: current };
  if (current === 'VERIFIED' && NEVER_OVER_VERIFIED.has(event)) return { outcome: 'ignored', status: current };
  return { outcome: 'applied', status: next };
}

/** Capa's details verdict (KYC: aipriseSummary.verificationResult; KYB: verificationStatus) as a status, if it names one. */
export function kycStatusFromVerdict(verdict: unknown): KycStatus | undefined {
  if (typeof verdict !== 'string') return undefined;
  const normalised = verdict.trim().toUpperCase().replace(/[\s-]+/g, '_');
  const aliases: Record<string, KycStatus> = { APPROVED: 'VERIFIED', DECLINED: 'REJECTED', REVIEW: 'REVIEW_NEEDED', PENDING: 'IN_PROGRESS' };
  if ((KYC_STATUSES as readonly string[]).includes(normalised)) return normalised as KycStatus;
  return Object.hasOwn(aliases, normalised) ? aliases[normalised] : undefined;
}

/**
 * What a details verdict (refresh, the poll fallback) does to a status: never moves it backwards. NOT_STARTED or a
 * verdict naming no status changes nothing, and the webhooks' precedence holds (IN_PROGRESS/REVIEW_NEEDED never
 * overwrite VERIFIED). Answers the new status, or null for no change.
 */
export function decideVerdict(current: KycStatus, verdict: unknown): KycStatus | null {
  const status = kycStatusFromVerdict(verdict);
  if (status === undefined || status === 'NOT_STARTED' || status === current) return null;
  if (current === 'VERIFIED' && (status === 'IN_PROGRESS' || status === 'REVIEW_NEEDED')) return null;
  return status;
}
