import type { BackoffPolicy } from '../config/backoff';

/** Retries within an inbound request (the caller waits): short, and within the request's deadline. */
export const IN_REQUEST_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 2000, maxRetryAfterMs: 30_000 };

/** An attempt with less time than this left before the deadline is not worth starting. */
export const MIN_ATTEMPT_MS = 50;

/**
 * How long one attempt may wait for Capa: CAPA_TIMEOUT_MS, but while a caller waits, at most half the time left
 * before its deadline, so an attempt that times out still leaves room for another. When not even two short attempts
 * fit, the last one may use whatever is left. Background calls (nobody waits) get CAPA_TIMEOUT_MS up to the deadline.
 */
export function attemptTimeoutMs(timeoutMs: number, timeLeftMs: number, callerWaiting: boolean): number {
  const left = Math.max(1, Math.floor(timeLeftMs));
  if (!callerWaiting || left < 2 * MIN_ATTEMPT_MS) return Math.min(timeoutMs, left);
  return Math.min(timeoutMs, Math.floor(left / 2));
}
