import type { CapaOutcome } from '../capa/capa-outcome';
import { BACKGROUND_BACKOFF, BackoffPolicy, backoffDelay } from '../config/backoff';
import type { SignupRecord } from './signup.types';

/** What a request does when a row for its externalUserId already exists. */
export type RepeatDecision =
  /** Answer from the row: same payload, and settled or waiting for its next background attempt. */
  | 'replay'
  /** Another payload already holds this externalUserId. */
  | 'conflict'
  /** Capa rejected the old payload; a corrected one takes the row over. */
  | 'replace-failed'
  /** PENDING, due, and nobody holds the lease: take it and call Capa. */
  | 'claim'
  /** PENDING and another caller holds the lease: wait for it to settle. */
  | 'wait';

export function decideOnRepeat(row: SignupRecord, fingerprint: string, now: Date): RepeatDecision {
  const samePayload = row.fingerprint === fingerprint;
  switch (row.status) {
    case 'CREATED':
    case 'NEEDS_ATTENTION':
      return samePayload ? 'replay' : 'conflict';
    case 'FAILED':
      return samePayload ? 'replay' : 'replace-failed';
    case 'PENDING':
      if (!samePayload) return 'conflict';
      if (!isLeaseFree(row, now)) return 'wait';
      return isDue(row, now) ? 'claim' : 'replay';
  }
}

export function isLeaseFree(row: Pick<SignupRecord, 'leaseUntil'>, now: Date): boolean {
  return row.leaseUntil === null || row.leaseUntil.getTime() <= now.getTime();
}

export function isDue(row: Pick<SignupRecord, 'nextAttemptAt'>, now: Date): boolean {
  return row.nextAttemptAt === null || row.nextAttemptAt.getTime() <= now.getTime();
}

/** The state a PENDING row moves to after Capa's final outcome for this round of attempts. */
export type Transition =
  | { status: 'CREATED'; userId: string }
  | { status: 'FAILED'; errorCode: string; errorMessage: string }
  | { status: 'NEEDS_ATTENTION'; errorCode: string; errorMessage: string }
  /** Retried by the worker after `retryInMs`, counted from the database's clock when the row is settled. */
  | { status: 'PENDING'; errorCode: string; errorMessage: string; retryInMs: number };

/**
 * The state machine of DESIGN.md: a userId makes it CREATED; a permanent rejection FAILED; "exists, no id"
 * NEEDS_ATTENTION; anything transient (incl. 401/403, a misconfiguration) stays PENDING until the next attempt.
 */
export function transitionFor(
  outcome: CapaOutcome,
  attemptCount: number,
  backoff: BackoffPolicy = BACKGROUND_BACKOFF,
  random = Math.random,
): Transition {
  switch (outcome.kind) {
    case 'created':
      return { status: 'CREATED', userId: outcome.userId };
    case 'rejected':
      return { status: 'FAILED', errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
    case 'exists-without-id':
      return { status: 'NEEDS_ATTENTION', errorCode: outcome.errorCode, errorMessage: outcome.errorMessage };
    case 'misconfigured':
    case 'transient': {
      const retryAfterMs = outcome.kind === 'transient' ? outcome.retryAfterMs : undefined;
      const retryInMs = backoffDelay(backoff, Math.max(attemptCount, 1), retryAfterMs, random);
      return { status: 'PENDING', errorCode: outcome.errorCode, errorMessage: outcome.errorMessage, retryInMs };
    }
  }
}
