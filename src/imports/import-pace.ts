/** How often a replica asks for tokens while import rows are due. */
const POLL_MS = 100;

export interface ImportPace {
  /** Tokens the bucket holds at most: the largest burst of calls any one-second window can see above the rate. */
  burst: number;
  pollMs: number;
  /** Import drives one replica runs at once (a slow Capa must not pile up calls). */
  maxInFlight: number;
}

/**
 * The bucket's shape for a rate: a burst of a fifth of a second's calls (at least one) keeps every one-second window
 * within 20% of the rate, and still covers the calls due between two polls, so the rate is reached.
 */
export function importPace(ratePerSecond: number): ImportPace {
  return {
    burst: Math.max(1, ratePerSecond * 0.2),
    pollMs: POLL_MS,
    maxInFlight: Math.max(10, Math.ceil(ratePerSecond * 2)),
  };
}
