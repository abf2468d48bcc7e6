/** Replicas ask for tokens at least this often while import rows are due, and at most this often. */
const MAX_POLL_MS = 100;
const MIN_POLL_MS = 10;

export interface ImportPace {
  /** Tokens the bucket holds at most: the largest burst of calls any one-second window can see above the rate. */
  burst: number;
  /** The mean pause between two polls of one replica (jittered ±50%). */
  pollMs: number;
  /** Import drives one replica runs at once (a slow Capa must not pile up calls). */
  maxInFlight: number;
}

/**
 * The bucket's shape for a rate: a burst of a tenth of a second's calls (at least one) keeps every one-second window
 * within 20% of the rate even when calls arrive a little after their tokens were granted; a replica polls at least
 * twice per burst's worth of time, so the bucket is emptied before it fills and the rate is reached.
 */
export function importPace(ratePerSecond: number): ImportPace {
  const burst = Math.max(1, ratePerSecond / 10);
  return {
    burst,
    pollMs: Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ((burst / ratePerSecond) * 1000) / 2)),
    maxInFlight: Math.max(10, Math.ceil(ratePerSecond * 2)),
  };
}
