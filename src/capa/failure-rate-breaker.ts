import { CircuitState, IBreaker } from 'cockatiel';
import { RollingCounts } from './rolling-counts';

export interface FailureRateSettings {
  /** Opens when more than this share of the window's calls failed... */
  failureRate: number;
  windowMs: number;
  /** ...and the window saw at least this many calls. */
  minCalls: number;
}

/** The window's figures, as the log states them. */
export interface BreakerFigures {
  windowMs: number;
  calls: number;
  failures: number;
  failureRate: number;
}

type Counted = 'calls' | 'failures';

/**
 * Hystrix's rule as a cockatiel breaker: open when more than `failureRate` of the calls of the last `windowMs`
 * failed, once the window saw `minCalls`. cockatiel's SamplingBreaker means the same, but its ring only rotates one
 * bucket per call, so after a quiet spell it still counts calls from long before the window (a low-traffic service's
 * "last 10 s" becomes its last ten bursts); this window drops them by time (RollingCounts).
 */
export class FailureRateBreaker implements IBreaker {
  private window: RollingCounts<Counted>;

  constructor(
    private readonly settings: FailureRateSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.window = this.emptyWindow();
  }

  /** cockatiel's serialisable breaker state; this process never hands its breaker to another, so nothing is kept. */
  get state(): unknown {
    return undefined;
  }

  set state(_value: unknown) {
    this.window = this.emptyWindow();
  }

  success(state: CircuitState): void {
    // A successful probe closes the circuit: the failures that opened it no longer count.
    if (state === CircuitState.HalfOpen) this.window = this.emptyWindow();
    this.window.add('calls');
  }

  failure(state: CircuitState): boolean {
    this.window.add('calls');
    this.window.add('failures');
    if (state !== CircuitState.Closed) return true;
    const { calls, failures } = this.window.totals();
    return calls >= this.settings.minCalls && failures > this.settings.failureRate * calls;
  }

  figures(): BreakerFigures {
    const { calls, failures } = this.window.totals();
    return { windowMs: this.settings.windowMs, calls, failures, failureRate: calls === 0 ? 0 : Math.round((failures / calls) * 1000) / 1000 };
  }

  private emptyWindow(): RollingCounts<Counted> {
    return new RollingCounts<Counted>(['calls', 'failures'], this.settings.windowMs, 10, this.now);
  }
}
