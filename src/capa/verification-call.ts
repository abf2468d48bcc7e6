import type { VerificationKind } from './capa-vocabulary';
import { AttemptFields, capText } from './capa-outcome';
import { classifyResponse } from './capa-response';

/** Which Capa endpoint a verification attempt called, as the attempts log names it. */
export type VerificationOperation = 'kyc-link' | 'kyb-link' | 'kyc-details' | 'kyb-details';

/** What a call to a verification endpoint came to. `value` is the link or the verdict; never logged or stored. */
export type VerificationOutcome<T> =
  | { kind: 'answered'; value: T; httpStatus: number }
  /** A 4xx other than 401/403/408/429: the request is wrong or not allowed for this user; retrying changes nothing. */
  | { kind: 'rejected'; httpStatus: number; errorCode: string; errorMessage: string }
  /** 401/403: this service's key or partner account is misconfigured. */
  | { kind: 'misconfigured'; httpStatus: number; errorCode: string; errorMessage: string }
  /** Timeouts, network errors, 5xx, 408, 429, an open circuit. */
  | { kind: 'transient'; httpStatus: number | null; errorCode: string; errorMessage: string; retryAfterMs?: number }
  /** A 2xx without the field this service needs. */
  | { kind: 'unreadable'; httpStatus: number; errorCode: string; errorMessage: string };

/** One HTTP call to a verification endpoint: how to make it and how to read its answer. */
export interface VerificationCall<T> {
  operation: VerificationOperation;
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, string>;
  /** Details answers carry ID images; they are read whole, then dropped but for the verdict. */
  maxResponseBytes: number;
  /** The value from a 2xx body, or undefined when it is not there. */
  read(body: unknown): T | undefined;
}

/** A verification attempt as recorded: the outcome and error, never the link or any field of a details answer. */
export type VerificationAttemptRecord = AttemptFields<VerificationOutcome<unknown>['kind']>;

/** Capa documents `data.kycLink`; the KYB answer's field is undocumented, so the first string among these wins. */
const LINK_FIELDS = ['kybLink', 'kycLink', 'link', 'url', 'sessionUrl'] as const;

export function verificationLinkCall(kind: VerificationKind, userId: string, country: string, redirectUri?: string): VerificationCall<string> {
  return {
    operation: kind === 'KYB' ? 'kyb-link' : 'kyc-link',
    method: 'POST',
    path: `/api/partner/v2/users/${encodeURIComponent(userId)}/${kind.toLowerCase()}/verification-link`,
    body: redirectUri === undefined ? { country } : { country, partnerRedirectUri: redirectUri },
    maxResponseBytes: 64 * 1024,
    read: (body) => {
      const data = field(body, 'data');
      for (const name of LINK_FIELDS) {
        const link = field(data, name);
        if (typeof link === 'string' && link.length > 0) return link;
      }
      return undefined;
    },
  };
}

/** The verdict only: KYC `data.aipriseSummary.verificationResult`, KYB `verificationStatus` (top level or in `data`). */
export function verificationDetailsCall(kind: VerificationKind, userId: string): VerificationCall<string> {
  return {
    operation: kind === 'KYB' ? 'kyb-details' : 'kyc-details',
    method: 'GET',
    path: `/api/partner/v2/${kind.toLowerCase()}/details?userId=${encodeURIComponent(userId)}`,
    maxResponseBytes: 20 * 1024 * 1024,
    read: (body) => {
      const verdict =
        kind === 'KYB'
          ? (field(field(body, 'data'), 'verificationStatus') ?? field(body, 'verificationStatus'))
          : field(field(field(body, 'data'), 'aipriseSummary'), 'verificationResult');
      return typeof verdict === 'string' && verdict.length > 0 ? capText(verdict, 64) : undefined;
    },
  };
}

/** Reads an answer; error bodies are read as create's are (classifyResponse), a 2xx only through `call.read`. */
export function classifyVerificationResponse<T>(call: Pick<VerificationCall<T>, 'read'>, httpStatus: number, headers: Record<string, unknown>, body: unknown): VerificationOutcome<T> {
  if (httpStatus >= 200 && httpStatus < 300) {
    const value = call.read(body);
    if (value !== undefined) return { kind: 'answered', value, httpStatus };
    // Never the body: a link or personal data could be in it under a name this service does not know.
    return { kind: 'unreadable', httpStatus, errorCode: 'UNEXPECTED_ANSWER', errorMessage: `Capa answered ${httpStatus} without the expected field` };
  }
  const outcome = classifyResponse(httpStatus, headers, body);
  switch (outcome.kind) {
    case 'misconfigured':
      // 404 is a documented answer of these endpoints (NOT_FOUND_ERROR: Capa does not know this userId), not a wrong
      // base URL as it is for create; 401/403 stay a misconfiguration (DESIGN.md: 502 CAPA_MISCONFIGURED).
      return httpStatus === 404 ? { kind: 'rejected', httpStatus, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage } : outcome;
    case 'transient':
    case 'rejected':
      return outcome;
    case 'exists-without-id':
      return { kind: 'rejected', httpStatus: outcome.httpStatus, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
    default:
      return { kind: 'transient', httpStatus, errorCode: 'UNEXPECTED_STATUS', errorMessage: `Unexpected HTTP ${httpStatus}` };
  }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** Only transient faults are retried within the request: a 401/403 will not heal in seconds, and nothing completes a link later. */
export function isRetryableVerification(outcome: VerificationOutcome<unknown>): boolean {
  return outcome.kind === 'transient';
}
