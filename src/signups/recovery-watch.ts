import type { CircuitStatus } from '../capa/capa-circuit';

/** While Capa is failing, one waiting signup is made due this often, so a recovery is seen even when every signup waits minutes. */
export const RECOVERY_PROBE_MS = 2000;

/** Failed calls in a row that make Capa count as failing (fewer is a flaky Capa, which the backoff handles). */
export const FAILURES_BEFORE_FAILING = 3;

/**
 * Capa's health as this process sees it, from the gateway's reports: failing after FAILURES_BEFORE_FAILING failed
 * calls in a row (or the circuit opening) until a call succeeds (or the circuit closes). That first success is the
 * recovery signal, given once.
 */
export class RecoveryWatch {
  private failing = false;
  private failuresInARow = 0;
  private lastProbeAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly probeEveryMs: number = RECOVERY_PROBE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A call to Capa ended; true when it is the first success after failures (Capa recovered). */
  callFinished(failed: boolean): boolean {
    if (!failed) return this.recover();
    this.failuresInARow += 1;
    return this.failuresInARow >= FAILURES_BEFORE_FAILING ? this.fail() : false;
  }

  /** The circuit changed; true when it closed after failures. */
  circuitChanged(status: CircuitStatus): boolean {
    if (status === 'open') return this.fail();
    return status === 'closed' ? this.recover() : false;
  }

  /** Whether to make one waiting signup due now: while failing, at most once per probeEveryMs. */
  probeDue(): boolean {
    if (!this.failing) return false;
    const now = this.now();
    if (now - this.lastProbeAt < this.probeEveryMs) return false;
    this.lastProbeAt = now;
    return true;
  }

  private fail(): false {
    this.failing = true;
    return false;
  }

  private recover(): boolean {
    this.failuresInARow = 0;
    const recovered = this.failing;
    this.failing = false;
    return recovered;
  }
}

/** A replica brings waiting signups forward at most this often; a recovery seen sooner is deferred to then, not lost. */
export const RECOVERY_MIN_INTERVAL_MS = 2000;

/**
 * Rate-limits the recovery statement: a flaky Capa (a success after a few failures, again and again) would otherwise
 * run it several times a second and keep cancelling the backoff. A signal within minIntervalMs of the last run is
 * deferred to the end of that interval, and signals while one is deferred are folded into it.
 */
export class RecoveryThrottle {
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private pending = false;

  constructor(
    private readonly minIntervalMs: number = RECOVERY_MIN_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** A recovery was signalled: in how many ms to bring the waiting signups forward, or null when a run is already pending. */
  signalled(): number | null {
    if (this.pending) return null;
    this.pending = true;
    return Math.max(0, this.lastRunAt + this.minIntervalMs - this.now());
  }

  /** The pending run starts now. */
  running(): void {
    this.pending = false;
    this.lastRunAt = this.now();
  }
}

/** How a recovery drains the waiting signups: made due one after another at these rates, at most this many. */
export interface RecoveryPace {
  liveRatePerSecond: number;
  liveLimit: number;
  importRatePerSecond: number;
  importLimit: number;
}

/**
 * Live signups are made due at half of one replica's retry-budget floor (their calls are retries): whichever replicas
 * claim them, the whole drain stays within one replica's budget with room left for live retries, so nothing is refused
 * and pushed back by minutes. Import rows at IMPORT_CAPA_RPS, the pace their bucket allows anyway. Only rows that the
 * pace reaches before the longest backoff are moved; the others are due sooner by their own backoff.
 */
export function recoveryPace(settings: { retryBudgetMinPerSecond: number; importCapaRps: number; backoffCapMs: number }): RecoveryPace {
  const liveRatePerSecond = Math.max(1, settings.retryBudgetMinPerSecond / 2);
  const importRatePerSecond = Math.max(1, settings.importCapaRps);
  const horizonSeconds = settings.backoffCapMs / 1000;
  return {
    liveRatePerSecond,
    liveLimit: Math.max(1, Math.min(MAX_ROWS_MOVED, Math.ceil(liveRatePerSecond * horizonSeconds))),
    importRatePerSecond,
    importLimit: Math.max(1, Math.min(MAX_ROWS_MOVED, Math.ceil(importRatePerSecond * horizonSeconds))),
  };
}

/** One recovery moves at most this many rows of each kind in one statement. */
const MAX_ROWS_MOVED = 10_000;
