/** Capped exponential backoff with full jitter (AWS architecture blog), honouring Retry-After up to a cap. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** The longest Retry-After honoured; a longer one is clamped to this. */
  maxRetryAfterMs: number;
}

export const IN_REQUEST_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 2000, maxRetryAfterMs: 30_000 };
export const BACKGROUND_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 5 * 60_000, maxRetryAfterMs: 10 * 60_000 };

/**
 * Delay before retry number `attempt` (1 = the first retry). Full jitter: uniform in [0, min(cap, base*2^(attempt-1))].
 * A Retry-After is a floor: never retry sooner than Capa asked.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, retryAfterMs?: number, random = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, policy.maxRetryAfterMs));
}

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
