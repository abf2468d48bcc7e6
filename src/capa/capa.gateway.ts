import { HttpService } from '@nestjs/axios';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { CircuitStatus } from './capa-circuit';
import { CapaEndpoint } from './capa-endpoint';
import { AttemptFields, CapaAttemptRecord, CapaOutcome, attemptFields, attemptRecord, isRetryable, withoutSecret } from './capa-outcome';
import { classifyNetworkError, classifyResponse } from './capa-response';
import { CapaObserver } from './capa-observer';
import type { NotificationCall } from './notification-calls';
import { RetryPipeline } from './retry-pipeline';
import {
  VerificationAttemptRecord,
  VerificationCall,
  VerificationOutcome,
  classifyVerificationResponse,
  isRetryableVerification,
} from './verification-call';

export type { CircuitStatus } from './capa-circuit';

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

/** A call to Capa's webhook notification API (the reconciler's): no signup behind it. */
export interface NotificationCallOptions {
  deadline: number;
  /** 1 for a manual retry: each call counts against Capa's caps, so it is never repeated by the pipeline. */
  maxAttempts?: number;
  /** Logged with every attempt (Capa's notification id is not personal data). */
  notificationId?: string;
}

const CREATE_USER_PATH = '/api/partner/v1/user';
/** The errorCode of a call this service aborted itself (CapaCallOptions.signal): whether Capa acted on it is unknown. */
export const CALL_ABORTED = 'ABORTED';

/**
 * The one place that speaks HTTP to Capa: timeouts, retries, circuit breaking and error mapping. Knows no database.
 * Every operation goes through one RetryPipeline, so the breaker and the retry budget cover all of them; what differs
 * per operation is the request, how its answer reads, and which outcomes are worth another attempt (`shouldRetry`).
 */
@Injectable()
export class CapaGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(CapaGateway.name);
  private readonly pipeline: RetryPipeline;

  constructor(
    private readonly http: HttpService,
    private readonly endpoint: CapaEndpoint,
    config: AppConfig,
    private readonly observer: CapaObserver,
  ) {
    const windowMs = config.circuitWindowMs;
    this.pipeline = new RetryPipeline(
      {
        circuit: { failureRate: config.circuitFailureRate, windowMs, minCalls: config.circuitMinCalls, halfOpenMs: config.circuitHalfOpenMs },
        budget: { ratio: config.retryBudgetRatio, minPerSecond: config.retryBudgetMinPerSecond, windowMs },
        attemptTimeoutMs: config.capaTimeoutMs,
      },
      observer,
    );
  }

  circuitStatus(): CircuitStatus {
    return this.pipeline.circuitStatus();
  }

  /**
   * Registers the user at Capa. Transient outcomes and a misconfiguration are retried: the same request may succeed
   * once Capa or this service's key is back.
   */
  createUser(request: CapaCreateUserRequest, options: CapaCallOptions): Promise<CapaOutcome> {
    const url = `${this.endpoint.baseUrl}${CREATE_USER_PATH}`;
    return this.pipeline.run<CapaOutcome>(
      {
        send: (timeoutMs) => this.post(url, request, timeoutMs, options.signal),
        shouldRetry: isRetryable,
        attempted: async (outcome, at, latencyMs, isRetry) => {
          const record = attemptRecord(outcome, at, latencyMs);
          this.logAttempt(record, 'created', ['Capa call', 'Capa call did not succeed'], { reqId: options.requestId, externalUserId: request.externalUserId }, isRetry);
          this.observer.callFinished(record);
          await options.onAttempt(record);
        },
      },
      options,
    );
  }

  /**
   * A call to a verification endpoint (links, details), retried like every other operation, except that only
   * transient outcomes are retried: a 401/403 will not heal within a request, and nothing completes a link later.
   */
  callVerification<T>(call: VerificationCall<T>, options: VerificationCallOptions): Promise<VerificationOutcome<T>> {
    return this.pipeline.run<VerificationOutcome<T>>(
      {
        send: (timeoutMs) => this.send(call, timeoutMs),
        shouldRetry: isRetryableVerification,
        attempted: async (outcome, at, latencyMs, isRetry) => {
          const record: VerificationAttemptRecord = attemptFields(outcome, at, latencyMs);
          // Never the link or the details answer: only what kind of answer it was.
          const fields = { reqId: options.requestId, externalUserId: options.externalUserId, operation: call.operation };
          this.logAttempt(record, 'answered', ['Capa verification call', 'Capa verification call failed'], fields, isRetry);
          await options.onAttempt(record);
        },
      },
      { deadline: options.deadline },
    );
  }

  /** A call to Capa's webhook notification API (list, detail, retry); only transient outcomes are retried, within maxAttempts. */
  callNotifications<T>(call: NotificationCall<T>, options: NotificationCallOptions): Promise<VerificationOutcome<T>> {
    return this.pipeline.run<VerificationOutcome<T>>(
      {
        send: (timeoutMs) => this.send(call, timeoutMs),
        shouldRetry: isRetryableVerification,
        attempted: async (outcome, at, latencyMs, isRetry) => {
          const record = attemptFields(outcome, at, latencyMs);
          this.logAttempt(record, 'answered', ['Capa notification call', 'Capa notification call failed'], { operation: call.operation, notificationId: options.notificationId }, isRetry);
        },
      },
      { deadline: options.deadline, background: true, ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}) },
    );
  }

  /** One log line per attempt: at info when Capa gave what was asked, at warn otherwise. */
  private logAttempt(record: AttemptFields, success: string, [succeeded, failed]: [string, string], context: Record<string, unknown>, isRetry: boolean): void {
    const { outcome: capaOutcome, httpStatus, latencyMs, errorCode } = record;
    const fields = { ...context, capaOutcome, httpStatus, latencyMs, errorCode, retry: isRetry };
    if (capaOutcome === success) this.logger.log(fields, succeeded);
    else this.logger.warn(fields, failed);
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

  private async send<T>(call: VerificationCall<T> | NotificationCall<T>, timeoutMs: number): Promise<VerificationOutcome<T>> {
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
      return withoutSecret(classifyVerificationResponse(call, response.status, response.headers as Record<string, unknown>, response.data), this.endpoint.partnerApiKey);
    } catch (error) {
      return withoutSecret(classifyNetworkError(error) as VerificationOutcome<T>, this.endpoint.partnerApiKey);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.endpoint.close();
  }
}
