import { Logger } from '@nestjs/common';
import { BrokenCircuitError, CircuitBreakerPolicy, CircuitState, circuitBreaker, handleWhenResult } from 'cockatiel';
import { BreakerFigures, FailureRateBreaker, FailureRateSettings } from './failure-rate-breaker';

export type CircuitStatus = 'closed' | 'open' | 'half-open';

export interface CircuitSettings extends FailureRateSettings {
  /** How long it stays open before one probe call. */
  halfOpenMs: number;
}

export const NOT_CALLED = Symbol('circuit open: not called');

/**
 * The circuit breaker in front of Capa: cockatiel's policy (open, half-open after halfOpenMs, one probe) driven by a
 * failure rate over a rolling window with a minimum of calls, so a Capa that is down is left alone while one that
 * is mostly up keeps being called. Every transition is logged once at warn, with the window's figures.
 */
export class CapaCircuit<T> {
  private readonly logger = new Logger('CapaCircuit');
  private readonly breaker: FailureRateBreaker;
  private readonly policy: CircuitBreakerPolicy;

  constructor(
    private readonly settings: CircuitSettings,
    isFailure: (outcome: T) => boolean,
    onChange: (status: CircuitStatus) => void,
    now: () => number = Date.now,
  ) {
    this.breaker = new FailureRateBreaker(settings, now);
    this.policy = circuitBreaker(handleWhenResult((outcome) => isFailure(outcome as T)), {
      halfOpenAfter: settings.halfOpenMs,
      breaker: this.breaker,
    });
    this.policy.onStateChange(() => {
      const status = this.status();
      this.logTransition(status);
      onChange(status);
    });
  }

  status(): CircuitStatus {
    switch (this.policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Runs one call through the breaker, or answers NOT_CALLED when the circuit is open. */
  async execute(call: () => Promise<T>): Promise<T | typeof NOT_CALLED> {
    try {
      return await this.policy.execute(call);
    } catch (error) {
      if (error instanceof BrokenCircuitError) return NOT_CALLED;
      throw error;
    }
  }

  figures(): BreakerFigures {
    return this.breaker.figures();
  }

  private logTransition(status: CircuitStatus): void {
    const figures = this.figures();
    const fields = { circuit: status, ...figures };
    if (status === 'open') {
      this.logger.warn(
        fields,
        `Circuit breaker in front of Capa opened: ${figures.failures} of ${figures.calls} calls failed in the last ${figures.windowMs} ms; ` +
          `calls pause for ${this.settings.halfOpenMs} ms, then one probe`,
      );
    } else if (status === 'half-open') {
      this.logger.warn(fields, 'Circuit breaker in front of Capa is half-open: one probe call decides');
    } else {
      this.logger.warn(fields, 'Circuit breaker in front of Capa closed: the probe call succeeded');
    }
  }
}
