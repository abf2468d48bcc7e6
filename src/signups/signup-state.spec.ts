import type { CapaOutcome } from '../capa/capa-outcome';
import { decideOnRepeat, transitionFor } from './signup-state';
import { signupRecord } from '../../test/support/signup-record';
import type { SignupRecord, SignupStatus } from './signup.types';

const now = new Date('2026-11-27T10:00:00Z');
const past = new Date(now.getTime() - 1000);
const future = new Date(now.getTime() + 1000);

function row(status: SignupStatus, fields: Partial<SignupRecord> = {}): SignupRecord {
  return signupRecord(status, { createdAt: past, updatedAt: past, ...fields });
}

describe('decideOnRepeat', () => {
  it.each<[string, SignupRecord, string, string]>([
    ['CREATED, same payload', row('CREATED'), 'same', 'replay'],
    ['CREATED, other payload', row('CREATED'), 'other', 'conflict'],
    ['NEEDS_ATTENTION, same payload', row('NEEDS_ATTENTION'), 'same', 'replay'],
    ['NEEDS_ATTENTION, other payload', row('NEEDS_ATTENTION'), 'other', 'conflict'],
    ['FAILED, same payload', row('FAILED'), 'same', 'replay'],
    ['FAILED, corrected payload', row('FAILED'), 'other', 'replace-failed'],
    ['PENDING, other payload', row('PENDING', { leaseUntil: future }), 'other', 'conflict'],
    ['PENDING, lease held', row('PENDING', { leaseOwner: 'a', leaseUntil: future, nextAttemptAt: future }), 'same', 'wait'],
    ['PENDING, lease expired (owner died)', row('PENDING', { leaseOwner: 'a', leaseUntil: past, nextAttemptAt: past }), 'same', 'claim'],
    ['PENDING, no lease, due', row('PENDING', { nextAttemptAt: past }), 'same', 'claim'],
    ['PENDING, no lease, never scheduled', row('PENDING'), 'same', 'claim'],
    ['PENDING, no lease, backing off', row('PENDING', { nextAttemptAt: future }), 'same', 'replay'],
    ['PENDING, lease ends exactly now', row('PENDING', { leaseUntil: now, nextAttemptAt: now }), 'same', 'claim'],
  ])('%s -> %s', (_name, existing, fingerprint, decision) => {
    expect(decideOnRepeat(existing, fingerprint, now)).toBe(decision);
  });
});

describe('transitionFor', () => {
  const mid = () => 0.5;

  it('created -> CREATED with the userId', () => {
    expect(transitionFor({ kind: 'created', userId: 'capa-9', httpStatus: 201 }, 1)).toEqual({ status: 'CREATED', userId: 'capa-9' });
  });

  it('rejected -> FAILED with Capa code and message', () => {
    const outcome: CapaOutcome = { kind: 'rejected', httpStatus: 400, errorCode: 'BAD_REQUEST', errorMessage: 'Provided email is not valid' };
    expect(transitionFor(outcome, 1)).toEqual({ status: 'FAILED', errorCode: 'BAD_REQUEST', errorMessage: 'Provided email is not valid' });
  });

  it('exists without id -> NEEDS_ATTENTION', () => {
    const outcome: CapaOutcome = { kind: 'exists-without-id', httpStatus: 409, errorCode: 'Conflict', errorMessage: 'exists' };
    expect(transitionFor(outcome, 1)).toMatchObject({ status: 'NEEDS_ATTENTION', errorCode: 'Conflict' });
  });

  it('transient -> stays PENDING, next attempt after a jittered backoff that grows with attempts', () => {
    const outcome: CapaOutcome = { kind: 'transient', httpStatus: 503, errorCode: 'HTTP_503', errorMessage: 'down' };
    const first = transitionFor(outcome, 1, undefined, mid);
    const tenth = transitionFor(outcome, 10, undefined, mid);
    expect(first).toEqual({ status: 'PENDING', errorCode: 'HTTP_503', errorMessage: 'down', retryInMs: 500 });
    expect(tenth).toMatchObject({ retryInMs: 150_000 });
  });

  it('honours Retry-After for the next background attempt', () => {
    const outcome: CapaOutcome = { kind: 'transient', httpStatus: 429, errorCode: 'HTTP_429', errorMessage: 'slow down', retryAfterMs: 42_000 };
    expect(transitionFor(outcome, 1, undefined, () => 0)).toMatchObject({ retryInMs: 42_000 });
  });

  it.each([401, 403, 404, 405])('a %i (bad key, partner account, base URL or path) keeps the row PENDING, never FAILED', (httpStatus) => {
    const outcome: CapaOutcome = { kind: 'misconfigured', httpStatus, errorCode: 'UNAUTHORIZED', errorMessage: 'Invalid API Key' };
    expect(transitionFor(outcome, 3, undefined, mid)).toMatchObject({ status: 'PENDING', errorCode: 'UNAUTHORIZED' });
  });
});
