import { HttpService } from '@nestjs/axios';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  BrokenCircuitError,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  circuitBreaker,
  handleWhenResult,
  retry,
} from 'cockatiel';
import { AppConfig } from '../config/app-config';
import { CapaEndpoint } from './capa-endpoint';
import { CapaAttemptRecord, CapaOutcome, attemptRecord, isRetryable, withoutSecret } from './capa-outcome';
import { classifyNetworkError, classifyResponse } from './capa-response';
import { CapaObserver } from './capa-observer';
import { IN_REQUEST_BACKOFF, backoffDelay } from './retry-schedule';

/** The body of Capa's `POST /api/partner/v1/user`, in Capa's own field names. */
export interface CapaCreateUserRequest {
  externalUserId: string;
  method: 'EMAIL' | 'PHONE_NUMBER' | 'NONE';
  identifier: string | null;
  userType?: 'INDIVIDUAL' | 'BUSINESS';
  alias?: string;
}

export type CircuitStatus = 'closed' | 'open' | 'half-open';

export interface CreateUserOptions {
  /** Epoch ms after which no new attempt starts; each attempt's timeout also ends by then. */
  deadline: number;
  /** Called after every real call to Capa (not when the circuit is open), before any retry. */
  onAttempt: (attempt: CapaAttemptRecord) => Promise<void> | void;
  /** The inbound request this call serves (absent for the background worker), logged with every attempt. */
  requestId?: string;
}

const CREATE_USER_PATH = '/api/partner/v1/user';
/** An attempt with less time than this left before the deadline is not worth starting. */
const MIN_ATTEMPT_MS = 50;
const MAX_ATTEMPTS_PER_REQUEST = 8;
const CIRCUIT_OPEN: CapaOutcome = {
  kind: 'transient',
  httpStatus: null,
  errorCode: 'CIRCUIT_OPEN',
  errorMessage: 'Capa is failing; calls are paused by the circuit breaker',
};

/** The one place that speaks HTTP to Capa: timeouts, retries, circuit breaking and error mapping. Knows no database. */
@Injectable()
export class CapaGateway implements OnApplicationShutdown {
  private readonly logger = new Logger(CapaGateway.name);
  private readonly breaker: CircuitBreakerPolicy;
  private readonly url: string;

  constructor(
    private readonly http: HttpService,
    private readonly endpoint: CapaEndpoint,
    private readonly config: AppConfig,
    private readonly observer: CapaObserver,
  ) {
    this.url = `${endpoint.baseUrl}${CREATE_USER_PATH}`;
    this.breaker = circuitBreaker(
      handleWhenResult((outcome) => isRetryable(outcome as CapaOutcome)),
      { halfOpenAfter: config.circuitHalfOpenMs, breaker: new ConsecutiveBreaker(config.circuitThreshold) },
    );
    this.breaker.onStateChange(() => {
      const status = this.circuitStatus();
      this.logger.warn(`Circuit breaker in front of Capa is now ${status}`);
      this.observer.circuitChanged(status);
    });
  }

  circuitStatus(): CircuitStatus {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /**
   * Registers the user at Capa, retrying transient outcomes with capped exponential backoff and full jitter
   * (Retry-After honoured) until a final outcome or the deadline. Answers the last outcome seen.
   */
  async createUser(request: CapaCreateUserRequest, options: CreateUserOptions): Promise<CapaOutcome> {
    let stop = false;
    const policy = retry(
      handleWhenResult((outcome) => !stop && isRetryable(outcome as CapaOutcome)),
      {
        maxAttempts: MAX_ATTEMPTS_PER_REQUEST,
        backoff: new DelegateBackoff<{ attempt: number; result: { value?: unknown } | { error: Error } }>((context) => {
          const last = 'value' in context.result ? (context.result.value as CapaOutcome) : undefined;
          const retryAfterMs = last?.kind === 'transient' ? last.retryAfterMs : undefined;
          const delay = backoffDelay(IN_REQUEST_BACKOFF, context.attempt, retryAfterMs);
          if (Date.now() + delay + MIN_ATTEMPT_MS > options.deadline) stop = true;
          return stop ? 0 : delay;
        }),
      },
    );
    let last: CapaOutcome = CIRCUIT_OPEN;
    return policy.execute(async () => {
      if (stop) return last;
      last = await this.attemptOnce(request, options);
      if (last === CIRCUIT_OPEN) stop = true;
      return last;
    });
  }

  /** One call to Capa through the circuit breaker; the attempt is reported before this returns. */
  async attemptOnce(request: CapaCreateUserRequest, options: CreateUserOptions): Promise<CapaOutcome> {
    const timeoutMs = Math.max(1, Math.min(this.config.capaTimeoutMs, options.deadline - Date.now()));
    let record: CapaAttemptRecord | undefined;
    let outcome: CapaOutcome;
    try {
      outcome = await this.breaker.execute(async () => {
        const at = new Date();
        const started = performance.now();
        const result = await this.post(request, timeoutMs);
        record = attemptRecord(result, at, performance.now() - started);
        return result;
      });
    } catch (error) {
      if (error instanceof BrokenCircuitError) return CIRCUIT_OPEN;
      throw error;
    }
    if (record) {
      const { outcome: capaOutcome, httpStatus, latencyMs, errorCode } = record;
      const fields = { reqId: options.requestId, externalUserId: request.externalUserId, capaOutcome, httpStatus, latencyMs, errorCode };
      if (capaOutcome === 'created') this.logger.log(fields, 'Capa call');
      else this.logger.warn(fields, 'Capa call did not create the user');
      this.observer.callFinished(record);
      await options.onAttempt(record);
    }
    return outcome;
  }

  private async post(request: CapaCreateUserRequest, timeoutMs: number): Promise<CapaOutcome> {
    try {
      // The axios instance of @nestjs/axios, called directly: its Observable wrapper cancels the request once
      // answered, which builds a CanceledError (with a stack) on every successful call.
      const response = await this.http.axiosRef.post(this.url, request, {
        headers: { 'content-type': 'application/json', 'partner-api-key': this.endpoint.partnerApiKey },
        timeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
        validateStatus: () => true,
        maxContentLength: 64 * 1024,
        maxRedirects: 0,
      });
      return withoutSecret(classifyResponse(response.status, response.headers as Record<string, unknown>, response.data), this.endpoint.partnerApiKey);
    } catch (error) {
      return withoutSecret(classifyNetworkError(error), this.endpoint.partnerApiKey);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.endpoint.close();
  }
}
