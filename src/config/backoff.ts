/** Capped exponential backoff with full jitter (AWS architecture blog), honouring Retry-After up to a cap. */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** The longest Retry-After honoured; a longer one is clamped to this. */
  maxRetryAfterMs: number;
}

/** The background worker's retries of a signup (WORKER_BACKOFF_BASE_MS and WORKER_BACKOFF_MAX_MS override it). */
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
