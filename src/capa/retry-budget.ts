import { RollingCounts } from './rolling-counts';

export interface RetryBudgetSettings {
  /** Retries allowed per first attempt over the window (0.2: at most one retry per five first attempts)... */
  ratio: number;
  /** ...plus this many retries per second, so a quiet service can still retry. */
  minPerSecond: number;
  windowMs: number;
}

/** What the log needs to explain a refusal: the window's figures. */
export interface RetryBudgetFigures {
  windowMs: number;
  firstAttempts: number;
  retries: number;
  refused: number;
  /** Retries the window allows: ratio * firstAttempts + minPerSecond * window seconds. */
  limit: number;
}

/**
 * `report` marks the decisions worth a log line: the first refusal, a reminder at most once per window while
 * refusals go on, and the first retry allowed again afterwards. Every other decision stays quiet.
 */
export interface RetryDecision {
  allowed: boolean;
  report?: 'exhausted' | 'still-exhausted' | 'recovered';
}

type Counted = 'firstAttempts' | 'retries' | 'refused';

/**
 * A retry budget in the manner of Finagle's and Envoy's: over a rolling window, retries of Capa calls (in-request
 * and background alike) stay under a share of the first attempts plus a small floor, so a degraded Capa is not
 * buried under retries: failing calls cost at most `ratio` extra calls per first attempt (plus the floor), not a
 * retry loop's four or five.
 */
export class RetryBudget {
  private readonly window: RollingCounts<Counted>;
  private exhausted = false;
  private lastReportAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly settings: RetryBudgetSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.window = new RollingCounts<Counted>(['firstAttempts', 'retries', 'refused'], settings.windowMs, 10, now);
  }

  /** A first call for some work (not a retry) went to Capa: it earns `ratio` retries for the window. */
  recordFirstAttempt(): void {
    this.window.add('firstAttempts');
  }

  /** Asks for one retry; an allowed one is counted at once (give it back with `refund` if it is not sent). */
  tryRetry(): RetryDecision {
    const figures = this.figures();
    const now = this.now();
    if (figures.retries + 1 <= figures.limit) {
      this.window.add('retries');
      if (!this.exhausted) return { allowed: true };
      this.exhausted = false;
      return { allowed: true, report: 'recovered' };
    }
    this.window.add('refused');
    if (!this.exhausted) {
      this.exhausted = true;
      this.lastReportAt = now;
      return { allowed: false, report: 'exhausted' };
    }
    if (now - this.lastReportAt >= this.settings.windowMs) {
      this.lastReportAt = now;
      return { allowed: false, report: 'still-exhausted' };
    }
    return { allowed: false };
  }

  /** An allowed retry that never reached Capa (the circuit was open): it does not count against the budget. */
  refund(): void {
    this.window.add('retries', -1);
  }

  figures(): RetryBudgetFigures {
    const { firstAttempts, retries, refused } = this.window.totals();
    const { ratio, minPerSecond, windowMs } = this.settings;
    return { windowMs, firstAttempts, retries, refused, limit: ratio * firstAttempts + (minPerSecond * windowMs) / 1000 };
  }
}
