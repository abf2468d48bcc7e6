import { Injectable } from '@nestjs/common';
import { CapaObserver } from '../capa/capa-observer';
import type { CapaAttemptRecord, CapaOutcomeKind } from '../capa/capa-outcome';
import type { CapaCallSummary } from './admin-views';
import { LatencyWindow } from './latency-window';

const LATENCY_WINDOW_SIZE = 1000;

/**
 * Outcomes where the call itself failed (timeouts, network errors, 5xx, 429, 401/403). A rejection or
 * "exists without id" is Capa working as designed, so it does not count as a failure.
 */
const FAILED_CALL_OUTCOMES: ReadonlySet<CapaOutcomeKind> = new Set(['transient', 'misconfigured']);

/** This process's Capa calls since boot, as the gateway reports them through CapaObserver. */
@Injectable()
export class CapaCallStats {
  private calls = 0;
  private failures = 0;
  private readonly byOutcome: Record<CapaOutcomeKind, number> = {
    created: 0,
    rejected: 0,
    'exists-without-id': 0,
    misconfigured: 0,
    transient: 0,
  };
  private readonly latencies = new LatencyWindow(LATENCY_WINDOW_SIZE);
  private readonly retryBudget = { allowed: 0, refused: 0 };

  constructor(observer: CapaObserver) {
    observer.subscribe({ callFinished: (attempt) => this.record(attempt), retryDecided: (decision) => (this.retryBudget[decision] += 1) });
  }

  record(attempt: CapaAttemptRecord): void {
    this.calls += 1;
    if (FAILED_CALL_OUTCOMES.has(attempt.outcome)) this.failures += 1;
    this.byOutcome[attempt.outcome] += 1;
    this.latencies.add(attempt.latencyMs);
  }

  summary(): CapaCallSummary {
    return {
      calls: this.calls,
      failures: this.failures,
      failureRate: this.calls === 0 ? 0 : this.failures / this.calls,
      byOutcome: { ...this.byOutcome },
      latencyMs: { p50: this.latencies.percentile(50), p99: this.latencies.percentile(99) },
      retryBudget: { ...this.retryBudget },
    };
  }
}
