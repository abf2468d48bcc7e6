import { Injectable } from '@nestjs/common';
import { CapaAttemptRecord } from './capa-outcome';
import type { CircuitStatus } from './capa-circuit';

/** Receives what the gateway did, for metrics and admin stats; the gateway stays free of both. */
@Injectable()
export class CapaObserver {
  private readonly listeners: Array<Partial<CapaObserverListener>> = [];

  subscribe(listener: Partial<CapaObserverListener>): void {
    this.listeners.push(listener);
  }

  callFinished(attempt: CapaAttemptRecord): void {
    for (const listener of this.listeners) listener.callFinished?.(attempt);
  }

  circuitChanged(status: CircuitStatus): void {
    for (const listener of this.listeners) listener.circuitChanged?.(status);
  }

  /** A retry was sent to Capa ('allowed') or held back by the retry budget ('refused'). */
  retryDecided(decision: RetryBudgetDecision): void {
    for (const listener of this.listeners) listener.retryDecided?.(decision);
  }
}

export type RetryBudgetDecision = 'allowed' | 'refused';

export interface CapaObserverListener {
  callFinished(attempt: CapaAttemptRecord): void;
  circuitChanged(status: CircuitStatus): void;
  retryDecided(decision: RetryBudgetDecision): void;
}
