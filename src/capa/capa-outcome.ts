/** What Capa's create-user call came to, as the rest of the service needs to know it. */
export type CapaOutcome =
  | { kind: 'created'; userId: string; httpStatus: number }
  /** The request itself is wrong (a 4xx other than 401/403/408/409/429): do not retry it unchanged. */
  | { kind: 'rejected'; httpStatus: number; errorCode: string; errorMessage: string }
  /** Capa says the user exists but gave no userId: a human must attach it. */
  | { kind: 'exists-without-id'; httpStatus: number; errorCode: string; errorMessage: string }
  /**
   * 401/403 (this service's key or partner account) or 404/405 on create (a wrong base URL or path): a fault of this
   * service's configuration, not of the request; keep the signup and retry later.
   */
  | { kind: 'misconfigured'; httpStatus: number; errorCode: string; errorMessage: string }
  /** Timeouts, network errors, 5xx, 408, 429, an open circuit: retry later. */
  | {
      kind: 'transient';
      httpStatus: number | null;
      errorCode: string;
      errorMessage: string;
      retryAfterMs?: number;
    };

export type CapaOutcomeKind = CapaOutcome['kind'];

/** Outcomes after which the same request may succeed later; the circuit breaker counts them as Capa's failures. */
export function isRetryable(outcome: { kind: string }): boolean {
  return outcome.kind === 'transient' || outcome.kind === 'misconfigured';
}

/** What the retry pipeline reads of any operation's outcome (create's, a verification call's): its kind and error. */
export interface AnyCapaOutcome {
  kind: string;
  httpStatus: number | null;
  errorCode?: string;
  errorMessage?: string;
  retryAfterMs?: number;
}

/** One call to Capa as it is recorded, whatever the operation: never the key nor an answer's value, the error message size-capped. */
export interface AttemptFields<Kind extends string = string> {
  at: Date;
  outcome: Kind;
  httpStatus: number | null;
  latencyMs: number;
  errorCode: string | null;
  errorMessage: string | null;
}

/** One call to create as it is recorded. */
export interface CapaAttemptRecord extends AttemptFields<CapaOutcomeKind> {
  /** The userId Capa answered, kept on the attempt so no answer of Capa is ever lost. */
  userId: string | null;
}

export const MAX_ERROR_MESSAGE_LENGTH = 1000;

export function attemptFields<O extends AnyCapaOutcome>(outcome: O, at: Date, latencyMs: number): AttemptFields<O['kind']> {
  return {
    at,
    outcome: outcome.kind,
    httpStatus: outcome.httpStatus,
    latencyMs: Math.round(latencyMs),
    errorCode: outcome.errorCode ?? null,
    errorMessage: outcome.errorMessage === undefined ? null : capText(outcome.errorMessage, MAX_ERROR_MESSAGE_LENGTH),
  };
}

export function attemptRecord(outcome: CapaOutcome, at: Date, latencyMs: number): CapaAttemptRecord {
  return { ...attemptFields(outcome, at, latencyMs), userId: outcome.kind === 'created' ? outcome.userId : null };
}

export function capText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The outcome with every occurrence of `secret` (the partner API key) in Capa's error text replaced, so an upstream that
 * echoes the key (an "Invalid API Key: ..." message, a proxy's debug page) never puts it in an attempt row or a log.
 * An answer (no error text) is returned as it is.
 */
export function withoutSecret<O extends AnyCapaOutcome>(outcome: O, secret: string | undefined): O {
  if (outcome.errorMessage === undefined || secret === undefined || secret.length === 0 || !outcome.errorMessage.includes(secret)) return outcome;
  return { ...outcome, errorMessage: outcome.errorMessage.split(secret).join('[REDACTED]') };
}
