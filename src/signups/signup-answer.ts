import { ApiError } from '../common/api-error';
import { SignupRecord, toMapping } from './signup.types';

/** What the HTTP layer sends for a signup request: status, headers and the mapping as JSON text. */
export interface SignupAnswer {
  statusCode: 200 | 201 | 202;
  headers: Readonly<Record<string, string>>;
  json: string;
}

const REPLAYED_HEADERS = Object.freeze({ 'idempotent-replayed': 'true' });

/** How long a caller is told to wait before asking again about an unsettled signup. */
const NEEDS_ATTENTION_RETRY_AFTER_S = 300;

/**
 * The contract's answer for a row: 201 created by this request, 200 replayed, 202 not settled yet,
 * 422 (thrown) when Capa rejected this payload. `json` is the row's mapping as JSON text, when already at hand.
 */
export function answerFor(row: SignupRecord, createdByThisRequest: boolean, now: Date, json = JSON.stringify(toMapping(row))): SignupAnswer {
  switch (row.status) {
    case 'CREATED':
      return createdByThisRequest ? { statusCode: 201, headers: { location: locationOf(row.externalUserId) }, json } : replayAnswer(json);
    case 'FAILED':
      throw new CapaRejectedError(row);
    case 'PENDING':
      return { statusCode: 202, headers: { 'retry-after': String(retryAfterSeconds(row, now)) }, json };
    case 'NEEDS_ATTENTION':
      return { statusCode: 202, headers: { 'retry-after': String(NEEDS_ATTENTION_RETRY_AFTER_S) }, json };
  }
}

/** 200 for a payload that was already CREATED: the stored mapping (as JSON), nothing sent to Capa. */
export function replayAnswer(json: string): SignupAnswer {
  return { statusCode: 200, headers: REPLAYED_HEADERS, json };
}

export function locationOf(externalUserId: string): string {
  return `/v1/users/${encodeURIComponent(externalUserId)}`;
}

/** Seconds until an unsettled signup is worth asking about again: its next attempt or the end of its lease (1..600). */
export function retryAfterSeconds(row: SignupRecord, now: Date): number {
  const due = row.nextAttemptAt ?? row.leaseUntil;
  const seconds = due === null ? 1 : Math.ceil((due.getTime() - now.getTime()) / 1000);
  return Math.min(Math.max(seconds, 1), 600);
}

export class CapaRejectedError extends ApiError {
  constructor(row: SignupRecord) {
    super(422, 'CAPA_REJECTED', `Capa rejected this signup: ${row.errorMessage ?? row.errorCode ?? 'no reason given'}`, [
      { message: row.errorMessage ?? '', capaCode: row.errorCode, signup: toMapping(row) },
    ]);
  }
}

export class ExternalUserIdConflictError extends ApiError {
  constructor(externalUserId: string) {
    super(
      409,
      'EXTERNAL_USER_ID_CONFLICT',
      `externalUserId ${JSON.stringify(externalUserId)} is already registered with a different payload`,
    );
  }
}

/** An erased signup cannot be re-driven: its identifier and alias are gone (a corrected payload takes it over). */
export class PayloadErasedError extends ApiError {
  constructor(row: SignupRecord) {
    super(409, 'PAYLOAD_ERASED', `The personal data of this signup was erased; send a corrected payload through POST /v1/users instead`, [
      { message: 'erased', status: row.status, erasedAt: row.erasedAt?.toISOString() ?? null },
    ]);
  }
}
