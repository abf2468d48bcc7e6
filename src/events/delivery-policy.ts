import { BackoffPolicy, backoffDelay } from '../config/backoff';

/** What one POST to an endpoint came to: acknowledged (any 2xx), or an error worth a retry. */
export type AttemptResult = { acknowledged: true } | { acknowledged: false; error: string; httpStatus?: number };

/** Only a 2xx acknowledges; a redirect is not followed (the endpoint is configured, not discovered). */
export function resultOfStatus(status: number): AttemptResult {
  return status >= 200 && status < 300 ? { acknowledged: true } : { acknowledged: false, error: `HTTP ${status}`, httpStatus: status };
}

/** A failed request as stored on the delivery: the kind of failure, never a URL's credentials or a response body. */
export function resultOfError(error: unknown, timeoutMs: number): AttemptResult {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { acknowledged: false, error: `no answer within ${timeoutMs} ms` };
  // undici's request() puts the socket's code on the error, fetch() on its cause.
  const failure = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof failure?.code === 'string' ? failure.code : failure?.cause?.code;
  return { acknowledged: false, error: typeof code === 'string' ? `connection failed (${code})` : 'connection failed' };
}

/**
 * How long after failed attempt number `attempts` (1 = the first) the next one is due: capped exponential backoff with
 * full jitter. Whether it still fits the retry window is decided in SQL against the delivery's give_up_at.
 */
export function retryDelayMs(policy: BackoffPolicy, attempts: number, random = Math.random): number {
  return backoffDelay(policy, attempts, undefined, random);
}
