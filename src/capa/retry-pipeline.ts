import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../config/backoff';
import { CapaCircuit, CircuitSettings, CircuitStatus, NOT_CALLED } from './capa-circuit';
import { AnyCapaOutcome, isRetryable } from './capa-outcome';
import { CapaObserver } from './capa-observer';
import { RetryBudget, RetryBudgetSettings, RetryDecision } from './retry-budget';
import { IN_REQUEST_BACKOFF, MIN_ATTEMPT_MS, attemptTimeoutMs } from './retry-schedule';

/** A transient outcome with no answer of Capa behind it (the circuit or the retry budget held the call back). */
export interface NotCalledOutcome {
  kind: 'transient';
  httpStatus: null;
  errorCode: string;
  errorMessage: string;
  retryAfterMs?: number;
}

export const CIRCUIT_OPEN: NotCalledOutcome = {
  kind: 'transient',
  httpStatus: null,
  errorCode: 'CIRCUIT_OPEN',
  errorMessage: 'Capa is failing; calls are paused by the circuit breaker',
};
const RETRY_BUDGET_EXHAUSTED = 'RETRY_BUDGET_EXHAUSTED';
const MAX_ATTEMPTS_PER_CALL = 8;

/**
 * A retry the budget held back. Its Retry-After spreads the rows the worker had to put back over the next window
 * (the budget refills as calls leave it), so the worker does not claim and put them back again many times a second.
 */
function retryBudgetExhausted(windowMs: number, random = Math.random): NotCalledOutcome {
  return {
    kind: 'transient',
    httpStatus: null,
    errorCode: RETRY_BUDGET_EXHAUSTED,
    errorMessage: 'Capa is failing often; retries are paused by the retry budget',
    retryAfterMs: Math.round(windowMs * (0.5 + random() / 2)),
  };
}

/** One Capa operation (create, a verification link, details, ...) as the pipeline runs it. */
export interface CapaOperation<O extends AnyCapaOutcome> {
  /** One HTTP call to Capa that gives up after `timeoutMs`; it never throws, every failure is an outcome. */
  send(timeoutMs: number): Promise<O>;
  /** Whether another attempt within this call may give a better outcome. */
  shouldRetry(outcome: O): boolean;
  /** After every real call to Capa (not when the circuit or the retry budget held it back), before any retry. */
  attempted(outcome: O, at: Date, latencyMs: number, isRetry: boolean): Promise<void>;
}

export interface PipelineOptions {
  /** Epoch ms after which no new attempt starts; each attempt's timeout also ends by then. */
  deadline: number;
  /** The work was attempted before: even the first call is a retry, paid from the retry budget. */
  retry?: boolean;
  /** Nobody waits for the answer: an attempt may use the whole timeout up to the deadline. */
  background?: boolean;
  /** At most this many calls (never more than 8). */
  maxAttempts?: number;
  /** Once aborted, no further attempt starts and no backoff is waited out. */
  signal?: AbortSignal;
}

export interface PipelineSettings {
  circuit: CircuitSettings;
  budget: RetryBudgetSettings;
  /** CAPA_TIMEOUT_MS: the longest one attempt waits. */
  attemptTimeoutMs: number;
}

/**
 * The one retry pipeline every Capa operation goes through, so the breaker and the retry budget cover all of them:
 * retried while `shouldRetry` says so, with capped exponential backoff and full jitter (Retry-After honoured), until
 * a final outcome, the deadline, `maxAttempts`, an abort, an open circuit or a refusal of the retry budget. Answers
 * the last outcome Capa gave, or why Capa was not asked at all.
 *
 * The circuit is cockatiel's policy (CapaCircuit). The retry loop is not cockatiel's `retry`: it stops when the next
 * delay would end past the deadline, and a refusal of the budget answers the previous outcome, neither of which
 * that policy can express.
 */
export class RetryPipeline {
  // The gateway's log context, as before the pipeline had a file of its own.
  private readonly logger = new Logger('CapaGateway');
  private readonly circuit: CapaCircuit<AnyCapaOutcome>;
  private readonly budget: RetryBudget;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly observer: CapaObserver,
  ) {
    this.circuit = new CapaCircuit<AnyCapaOutcome>(settings.circuit, isRetryable, (status) => this.observer.circuitChanged(status));
    this.budget = new RetryBudget(settings.budget);
  }

  circuitStatus(): CircuitStatus {
    return this.circuit.status();
  }

  async run<O extends AnyCapaOutcome>(operation: CapaOperation<O>, options: PipelineOptions): Promise<O | NotCalledOutcome> {
    let last: O | undefined;
    const maxAttempts = Math.min(options.maxAttempts ?? MAX_ATTEMPTS_PER_CALL, MAX_ATTEMPTS_PER_CALL);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const outcome = await this.attempt(operation, options, options.retry === true || attempt > 1);
      if (outcome === CIRCUIT_OPEN || (outcome.kind === 'transient' && outcome.errorCode === RETRY_BUDGET_EXHAUSTED)) return last ?? outcome;
      last = outcome as O;
      if (!operation.shouldRetry(last) || attempt === maxAttempts || options.signal?.aborted) break;
      const delay = backoffDelay(IN_REQUEST_BACKOFF, attempt, last.kind === 'transient' ? last.retryAfterMs : undefined);
      if (Date.now() + delay + MIN_ATTEMPT_MS > options.deadline) break;
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) break;
    }
    return last ?? CIRCUIT_OPEN;
  }

  /** One call to Capa through the retry budget (for a retry) and the circuit breaker; reported before this returns. */
  private async attempt<O extends AnyCapaOutcome>(operation: CapaOperation<O>, options: PipelineOptions, isRetry: boolean): Promise<O | NotCalledOutcome> {
    if (isRetry && !this.askRetryBudget()) return retryBudgetExhausted(this.settings.budget.windowMs);
    let called: { outcome: O; at: Date; latencyMs: number } | undefined;
    const outcome = await this.circuit.execute(async () => {
      if (isRetry) this.observer.retryDecided('allowed');
      else this.budget.recordFirstAttempt();
      const timeoutMs = attemptTimeoutMs(this.settings.attemptTimeoutMs, options.deadline - Date.now(), options.background !== true);
      const at = new Date();
      const started = performance.now();
      const result = await operation.send(timeoutMs);
      called = { outcome: result, at, latencyMs: performance.now() - started };
      return result;
    });
    if (outcome === NOT_CALLED) {
      if (isRetry) this.budget.refund();
      return CIRCUIT_OPEN;
    }
    if (called) await operation.attempted(called.outcome, called.at, called.latencyMs, isRetry);
    return outcome as O;
  }

  private askRetryBudget(): boolean {
    const decision = this.budget.tryRetry();
    if (!decision.allowed) this.observer.retryDecided('refused');
    if (decision.report !== undefined) this.logBudget(decision.report);
    return decision.allowed;
  }

  private logBudget(report: NonNullable<RetryDecision['report']>): void {
    const figures = this.budget.figures();
    const window = `${figures.retries} retries and ${figures.firstAttempts} first attempts in the last ${figures.windowMs} ms (limit ${Math.floor(figures.limit)})`;
    const fields = { retryBudget: report, ...figures, limit: Math.floor(figures.limit) };
    if (report === 'exhausted') this.logger.warn(fields, `Retry budget for Capa calls exhausted: ${window}; retries wait, callers get 202`);
    else if (report === 'still-exhausted') this.logger.warn(fields, `Retry budget for Capa calls still exhausted: ${figures.refused} refused; ${window}`);
    else this.logger.warn(fields, `Retry budget for Capa calls has room again: ${window}`);
  }
}
