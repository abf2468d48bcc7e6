import { HttpService } from '@nestjs/axios';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { CapaCircuit, CircuitStatus, NOT_CALLED } from './capa-circuit';
import { CapaEndpoint } from './capa-endpoint';
import { CapaAttemptRecord, CapaOutcome, attemptRecord, isRetryable, withoutSecret } from './capa-outcome';
import { classifyNetworkError, classifyResponse } from './capa-response';
import { CapaObserver } from './capa-observer';
import { RetryBudget, RetryDecision } from './retry-budget';
import { backoffDelay } from '../common/backoff';
import { IN_REQUEST_BACKOFF, MIN_ATTEMPT_MS, attemptTimeoutMs } from './retry-schedule';

export type { CircuitStatus } from './capa-circuit';
import {
  VERIFICATION_CIRCUIT_OPEN,
  VerificationAttemptRecord,
  VerificationCall,
  VerificationOutcome,
  classifyVerificationResponse,
  isRetryableVerification,
  verificationAttemptRecord,
  verificationWithoutSecret,
} from './verification-call';

/** The body of Capa's `POST /api/partner/v1/user`, in Capa's own field names. */
export interface CapaCreateUserRequest {
  externalUserId: string;
  method: 'EMAIL' | 'PHONE_NUMBER' | 'NONE';
  identifier: string | null;
  userType?: 'INDIVIDUAL' | 'BUSINESS';
  alias?: string;
}

export interface CapaCallOptions {
  /** Epoch ms after which no new attempt starts; each attempt's timeout also ends by then. */
  deadline: number;
  /** Called after every real call to Capa (not when the circuit or the retry budget held it back), before any retry. */
  onAttempt: (attempt: CapaAttemptRecord) => Promise<void> | void;
  /** The inbound request this call serves (absent for the background worker), logged with every attempt. */
  requestId?: string;
  /** The work was attempted before (the worker's next try of a signup): even its first call is a retry, paid from the retry budget. */
  retry?: boolean;
  /** Nobody waits for the answer (the worker): an attempt may use CAPA_TIMEOUT_MS up to the deadline instead of keeping room for another. */
  background?: boolean;
  /** At most this many calls (default 8): 1 for a caller that paid for exactly one call (an import row's token). */
  maxAttempts?: number;
  /** Aborts the HTTP request in flight (a drain's cut-off); no further attempt starts. The outcome is `ABORTED`. */
  signal?: AbortSignal;
}

/** A verification call (link, details) for one signup, within the inbound request's deadline. */
export interface VerificationCallOptions {
  deadline: number;
  /** Called after every real call to Capa (not when the circuit is open), before any retry. */
  onAttempt: (attempt: VerificationAttemptRecord) => Promise<void> | void;
  requestId?: string;
  /** Logged with every attempt (the Capa userId in the path is not). */
  externalUserId: string;
}

const CREATE_USER_PATH = '/api/partner/v1/user';
const MAX_ATTEMPTS_PER_CALL = 8;

const CIRCUIT_OPEN: CapaOutcome = {
  kind: 'transient',
  httpStatus: null,
  errorCode: 'CIRCUIT_OPEN',
  errorMessage: 'Capa is failing; calls are paused by the circuit breaker',
};
const RETRY_BUDGET_EXHAUSTED = 'RETRY_BUDGET_EXHAUSTED';
/** The errorCode of a call this service aborted itself (CapaCallOptions.signal): whether Capa acted on it is unknown. */
export const CALL_ABORTED = 'ABORTED';

/**
 * A retry the budget held back. Its Retry-After spreads the rows the worker had to put back over the next window
 * (the budget refills as calls leave it), so the worker does not claim and put them back again many times a second.
 */
function retryBudgetExhausted(windowMs: number, random = Math.random): CapaOutcome {
  return {
    kind: 'transient',
    httpStatus: null,
    errorCode: RETRY_BUDGET_EXHAUSTED,
    errorMessage: 'Capa is failing often; retries are paused by the retry budget',
    retryAfterMs: Math.round(windowMs * (0.5 + random() / 2)),
  };
}

/**
 * The one place that speaks HTTP to Capa: timeouts, retries, circuit breaking and error mapping. Knows no database.
 * Every operation goes through callWithRetries, so the breaker and the retry budget cover all of them.
 */
@Injectable()
export class CapaGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(CapaGateway.name);
  private readonly circuit: CapaCircuit<CapaOutcome>;
  private readonly budget: RetryBudget;

  constructor(
    private readonly http: HttpService,
    private readonly endpoint: CapaEndpoint,
    private readonly config: AppConfig,
    private readonly observer: CapaObserver,
  ) {
    const windowMs = config.circuitWindowMs;
    this.circuit = new CapaCircuit<CapaOutcome>(
      { failureRate: config.circuitFailureRate, windowMs, minCalls: config.circuitMinCalls, halfOpenMs: config.circuitHalfOpenMs },
      isRetryable,
      (status) => this.observer.circuitChanged(status),
    );
    this.budget = new RetryBudget({ ratio: config.retryBudgetRatio, minPerSecond: config.retryBudgetMinPerSecond, windowMs });
  }

  circuitStatus(): CircuitStatus {
    return this.circuit.status();
  }

  /** Registers the user at Capa (retried as callWithRetries says). */
  createUser(request: CapaCreateUserRequest, options: CapaCallOptions): Promise<CapaOutcome> {
    const url = `${this.endpoint.baseUrl}${CREATE_USER_PATH}`;
    return this.callWithRetries((timeoutMs) => this.post(url, request, timeoutMs, options.signal), options, { externalUserId: request.externalUserId });
  }

  /**
   * One Capa operation, retried on transient outcomes with capped exponential backoff and full jitter (Retry-After
   * honoured) until a final outcome, the deadline, an open circuit or a refusal of the retry budget. Answers the last
   * outcome Capa gave, or why Capa was not asked at all.
   */
  private async callWithRetries(
    send: (timeoutMs: number) => Promise<CapaOutcome>,
    options: CapaCallOptions,
    logFields: Record<string, unknown>,
  ): Promise<CapaOutcome> {
    let last: CapaOutcome | undefined;
    const maxAttempts = Math.min(options.maxAttempts ?? MAX_ATTEMPTS_PER_CALL, MAX_ATTEMPTS_PER_CALL);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const outcome = await this.attempt(send, options, options.retry === true || attempt > 1, logFields);
      if (outcome === CIRCUIT_OPEN || (outcome.kind === 'transient' && outcome.errorCode === RETRY_BUDGET_EXHAUSTED)) return last ?? outcome;
      last = outcome;
      if (!isRetryable(outcome) || attempt === maxAttempts || options.signal?.aborted) break;
      const delay = backoffDelay(IN_REQUEST_BACKOFF, attempt, outcome.kind === 'transient' ? outcome.retryAfterMs : undefined);
      if (Date.now() + delay + MIN_ATTEMPT_MS > options.deadline) break;
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal?.aborted) break;
    }
    return last ?? CIRCUIT_OPEN;
  }

  /** One call to Capa through the retry budget (for a retry) and the circuit breaker; reported before this returns. */
  private async attempt(
    send: (timeoutMs: number) => Promise<CapaOutcome>,
    options: CapaCallOptions,
    isRetry: boolean,
    logFields: Record<string, unknown>,
  ): Promise<CapaOutcome> {
    if (isRetry && !this.askRetryBudget()) return retryBudgetExhausted(this.config.circuitWindowMs);
    let record: CapaAttemptRecord | undefined;
    const outcome = await this.circuit.execute(async () => {
      if (isRetry) this.observer.retryDecided('allowed');
      else this.budget.recordFirstAttempt();
      const timeoutMs = attemptTimeoutMs(this.config.capaTimeoutMs, options.deadline - Date.now(), options.background !== true);
      const at = new Date();
      const started = performance.now();
      const result = await send(timeoutMs);
      record = attemptRecord(result, at, performance.now() - started);
      return result;
    });
    if (outcome === NOT_CALLED) {
      if (isRetry) this.budget.refund();
      return CIRCUIT_OPEN;
    }
    if (record) {
      const { outcome: capaOutcome, httpStatus, latencyMs, errorCode } = record;
      const fields = { reqId: options.requestId, ...logFields, capaOutcome, httpStatus, latencyMs, errorCode, retry: isRetry };
      if (capaOutcome === 'created') this.logger.log(fields, 'Capa call');
      else this.logger.warn(fields, 'Capa call did not succeed');
      this.observer.callFinished(record);
      await options.onAttempt(record);
    }
    return outcome;
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

  private async post(url: string, body: unknown, timeoutMs: number, abort?: AbortSignal): Promise<CapaOutcome> {
    try {
      // The axios instance of @nestjs/axios, called directly: its Observable wrapper cancels the request once
      // answered, which builds a CanceledError (with a stack) on every successful call.
      const response = await this.http.axiosRef.post(url, body, {
        headers: { 'content-type': 'application/json', 'partner-api-key': this.endpoint.partnerApiKey },
        timeout: timeoutMs,
        signal: abort === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([AbortSignal.timeout(timeoutMs), abort]),
        validateStatus: () => true,
        maxContentLength: 64 * 1024,
        maxRedirects: 0,
      });
      return withoutSecret(classifyResponse(response.status, response.headers as Record<string, unknown>, response.data), this.endpoint.partnerApiKey);
    } catch (error) {
      if (abort?.aborted) {
        return { kind: 'transient', httpStatus: null, errorCode: CALL_ABORTED, errorMessage: 'The call was aborted by this service (shutdown cut-off); Capa may or may not have acted on it' };
      }
      return withoutSecret(classifyNetworkError(error), this.endpoint.partnerApiKey);
    }
  }

  /**
   * A call to a verification endpoint (links, details), retried like every other operation (capped exponential
   * backoff with full jitter, Retry-After, the deadline, the retry budget, the circuit breaker), except that only
   * transient outcomes are retried: a 401/403 will not heal within a request, and nothing completes a link later.
   * Answers the last outcome Capa gave, or why Capa was not asked at all.
   */
  async callVerification<T>(call: VerificationCall<T>, options: VerificationCallOptions): Promise<VerificationOutcome<T>> {
    let last: VerificationOutcome<T> | undefined;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS_PER_CALL; attempt++) {
      const outcome = await this.verificationAttempt(call, options, attempt > 1);
      if (outcome === VERIFICATION_CIRCUIT_OPEN || (outcome.kind === 'transient' && outcome.errorCode === RETRY_BUDGET_EXHAUSTED)) return last ?? outcome;
      last = outcome;
      if (!isRetryableVerification(outcome)) break;
      const delay = backoffDelay(IN_REQUEST_BACKOFF, attempt, outcome.kind === 'transient' ? outcome.retryAfterMs : undefined);
      if (Date.now() + delay + MIN_ATTEMPT_MS > options.deadline) break;
      await sleep(delay);
    }
    return last ?? VERIFICATION_CIRCUIT_OPEN;
  }

  /** One verification call through the retry budget (for a retry) and the same circuit breaker as create. */
  private async verificationAttempt<T>(call: VerificationCall<T>, options: VerificationCallOptions, isRetry: boolean): Promise<VerificationOutcome<T>> {
    if (isRetry && !this.askRetryBudget()) {
      const { errorCode, errorMessage, retryAfterMs } = retryBudgetExhausted(this.config.circuitWindowMs) as Extract<CapaOutcome, { kind: 'transient' }>;
      return { kind: 'transient', httpStatus: null, errorCode, errorMessage, retryAfterMs };
    }
    let record: VerificationAttemptRecord | undefined;
    // The breaker reads only `kind` (transient and misconfigured are failures), which both outcome types share.
    const sendThroughBreaker = async (): Promise<VerificationOutcome<T>> => {
      if (isRetry) this.observer.retryDecided('allowed');
      else this.budget.recordFirstAttempt();
      const timeoutMs = attemptTimeoutMs(this.config.capaTimeoutMs, options.deadline - Date.now(), true);
      const at = new Date();
      const started = performance.now();
      const result = await this.send(call, timeoutMs);
      record = verificationAttemptRecord(result, at, performance.now() - started);
      return result;
    };
    const outcome = (await this.circuit.execute(sendThroughBreaker as unknown as () => Promise<CapaOutcome>)) as VerificationOutcome<T> | typeof NOT_CALLED;
    if (outcome === NOT_CALLED) {
      if (isRetry) this.budget.refund();
      return VERIFICATION_CIRCUIT_OPEN;
    }
    if (record) {
      const { outcome: capaOutcome, httpStatus, latencyMs, errorCode } = record;
      // Never the link or the details answer: only what kind of answer it was.
      const fields = { reqId: options.requestId, externalUserId: options.externalUserId, operation: call.operation, capaOutcome, httpStatus, latencyMs, errorCode, retry: isRetry };
      if (capaOutcome === 'answered') this.logger.log(fields, 'Capa verification call');
      else this.logger.warn(fields, 'Capa verification call failed');
      await options.onAttempt(record);
    }
    return outcome;
  }

  private async send<T>(call: VerificationCall<T>, timeoutMs: number): Promise<VerificationOutcome<T>> {
    try {
      const response = await this.http.axiosRef.request({
        method: call.method,
        url: `${this.endpoint.baseUrl}${call.path}`,
        ...(call.body !== undefined ? { data: call.body } : {}),
        headers: { 'content-type': 'application/json', 'partner-api-key': this.endpoint.partnerApiKey },
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
        validateStatus: () => true,
        maxContentLength: call.maxResponseBytes,
        maxRedirects: 0,
      });
      return verificationWithoutSecret(classifyVerificationResponse(call, response.status, response.headers as Record<string, unknown>, response.data), this.endpoint.partnerApiKey);
    } catch (error) {
      return verificationWithoutSecret(classifyNetworkError(error) as VerificationOutcome<T>, this.endpoint.partnerApiKey);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.endpoint.close();
  }
}
