import { CapaOutcome, capText } from './capa-outcome';

const MAX_RAW_BODY = 2000;
/** 401/403: a bad key or partner account; 404/405 on create: a wrong base URL or path. Never the request's fault. */
const MISCONFIGURED_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 405]);
const EXISTS_PATTERN = /already exist|already registered|duplicate|conflict/i;

/**
 * Turns an HTTP answer from Capa into an outcome. Capa publishes no error schema, so bodies are read
 * tolerantly: `{statusCode, message, error}` (NestJS), `{success:false, error:{message, id}}`, text, or nothing.
 */
export function classifyResponse(httpStatus: number, headers: Record<string, unknown>, body: unknown, now = Date.now()): CapaOutcome {
  if (httpStatus >= 200 && httpStatus < 300) {
    const userId = userIdOf(body);
    if (userId !== undefined) return { kind: 'created', userId, httpStatus };
    return {
      kind: 'exists-without-id',
      httpStatus,
      errorCode: 'NO_USER_ID',
      errorMessage: `Capa answered ${httpStatus} without data.userId: ${rawText(body)}`,
    };
  }

  const { errorCode, errorMessage } = errorOf(httpStatus, body);
  if (MISCONFIGURED_STATUSES.has(httpStatus)) return { kind: 'misconfigured', httpStatus, errorCode, errorMessage };
  if (httpStatus === 429 || httpStatus === 408 || httpStatus >= 500) {
    const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
    return { kind: 'transient', httpStatus, errorCode, errorMessage, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (httpStatus === 409 || (httpStatus >= 400 && EXISTS_PATTERN.test(errorMessage))) {
    return { kind: 'exists-without-id', httpStatus, errorCode, errorMessage };
  }
  if (httpStatus >= 400) return { kind: 'rejected', httpStatus, errorCode, errorMessage };
  return { kind: 'transient', httpStatus, errorCode: 'UNEXPECTED_STATUS', errorMessage: `Unexpected HTTP ${httpStatus}` };
}

/** Network-level failures (no HTTP answer) are all transient: Capa is idempotent on externalUserId. */
export function classifyNetworkError(error: unknown): CapaOutcome {
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || name === 'TimeoutError' || name === 'CanceledError' || code === 'ERR_CANCELED';
  const errorCode = timedOut ? 'TIMEOUT' : typeof code === 'string' ? code : 'NETWORK_ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'transient', httpStatus: null, errorCode, errorMessage: capText(message, MAX_RAW_BODY) };
}

/** `Retry-After` as delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date names a weekday and month; V8's Date.parse would also take '-5' or '1.5'.
  if (!/^[A-Za-z]{3}, /.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function userIdOf(body: unknown): string | undefined {
  const data = isRecord(body) ? body.data : undefined;
  const userId = isRecord(data) ? data.userId : undefined;
  return typeof userId === 'string' && userId.length > 0 ? userId : undefined;
}

function errorOf(httpStatus: number, body: unknown): { errorCode: string; errorMessage: string } {
  const fallbackCode = `HTTP_${httpStatus}`;
  if (!isRecord(body)) {
    const text = rawText(body);
    return { errorCode: fallbackCode, errorMessage: text === '' ? `HTTP ${httpStatus}` : text };
  }
  const nested = isRecord(body.error) ? body.error : undefined;
  const code = firstString(nested?.id, nested?.code, body.code, typeof body.error === 'string' ? body.error : undefined);
  const message = firstString(nested?.message, messageText(body.message)) ?? rawText(body);
  return { errorCode: code ?? fallbackCode, errorMessage: capText(message, MAX_RAW_BODY) };
}

function messageText(message: unknown): string | undefined {
  if (Array.isArray(message)) return message.filter((part) => typeof part === 'string').join('; ') || undefined;
  return typeof message === 'string' ? message : undefined;
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((value): value is string => typeof value === 'string' && value.trim() !== '');
}

function rawText(body: unknown): string {
  if (body === undefined || body === null) return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return capText(text, MAX_RAW_BODY);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
