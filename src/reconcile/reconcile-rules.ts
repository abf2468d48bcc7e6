import type { NotificationDetail, NotificationSummary } from '../capa/notification-calls';
import type { VerificationOutcome } from '../capa/verification-call';

/** Capa allows 10 manual retries a minute per partner; counted over 62 s (a 2 s margin for the way there). */
export const RETRY_CALLS_PER_WINDOW = 10;
export const RETRY_WINDOW_SECS = 62;
/** A 429 pauses retry calls this long (Capa documents no Retry-After). */
export const RETRY_PAUSE_SECS = 60;
/** Capa allows 3 manual retries per notification. */
export const MAX_MANUAL_RETRIES = 3;

/** A notification fetched for applying, with its place in Capa's listing (newest first there). */
export interface FetchedNotification {
  detail: NotificationDetail;
  listIndex: number;
}

/**
 * Capa documents no order: payloads apply oldest first by `createdAt`, so one user's notifications apply in Capa's
 * creation order even across pages. Ties and unreadable times fall back to the listing (newest first, so later = older).
 */
export function oldestFirst(notifications: FetchedNotification[]): FetchedNotification[] {
  const time = (item: FetchedNotification) => {
    const at = item.detail.createdAt === null ? Number.NaN : Date.parse(item.detail.createdAt);
    return Number.isNaN(at) ? Number.POSITIVE_INFINITY : at;
  };
  return [...notifications].sort((a, b) => time(a) - time(b) || b.listIndex - a.listIndex);
}

/** Listed FAILED notifications worth a manual retry, oldest first: never one Capa says was retried 3 times. */
export function retryCandidates(listed: NotificationSummary[]): NotificationSummary[] {
  const ordered = oldestFirst(listed.map((detail, listIndex) => ({ detail: { ...detail, payload: null }, listIndex })));
  return ordered.map((item) => item.detail).filter((item) => (item.manualRetryCount ?? 0) < MAX_MANUAL_RETRIES);
}

/** What a retry call's answer counts as: accepted, refused (409 and 429 are expected answers; 429 pauses), or an error. */
export function retryAnswer(outcome: VerificationOutcome<unknown>): { outcome: 'accepted' | 'refused' | 'error'; rateLimited: boolean } {
  if (outcome.kind === 'answered') return { outcome: 'accepted', rateLimited: false };
  if (outcome.httpStatus === 429) return { outcome: 'refused', rateLimited: true };
  if (outcome.httpStatus === 409) return { outcome: 'refused', rateLimited: false };
  return { outcome: 'error', rateLimited: false };
}

/** Why a list or detail call ended the run, for `lastError` (never a secret: the gateway scrubs the key). */
export function callFailure(operation: string, outcome: Exclude<VerificationOutcome<unknown>, { kind: 'answered' }>): string {
  const status = outcome.httpStatus === null ? 'no answer' : `HTTP ${outcome.httpStatus}`;
  return `${operation}: ${status} ${outcome.errorCode}: ${outcome.errorMessage}`.slice(0, 500);
}
