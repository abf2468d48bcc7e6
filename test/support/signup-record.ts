import type { SignupRecord, SignupStatus } from '../../src/signups/signup.types';

/** A stored signup for unit tests: a plain NONE-method row in `status`, overridden by `fields`. */
export function signupRecord(status: SignupStatus, fields: Partial<SignupRecord> = {}): SignupRecord {
  const at = new Date('2026-11-27T09:59:59Z');
  return {
    id: 1n,
    externalUserId: 'user-1',
    userId: status === 'CREATED' ? '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b' : null,
    status,
    method: 'NONE',
    identifier: null,
    userType: null,
    alias: null,
    fingerprint: 'same',
    errorCode: null,
    errorMessage: null,
    attemptCount: 1,
    callStartedAt: null,
    leaseOwner: null,
    leaseUntil: null,
    nextAttemptAt: null,
    createdAt: at,
    updatedAt: at,
    kycStatus: 'NOT_STARTED',
    kycUpdatedAt: null,
    kycLinkIssuedAt: null,
    ...fields,
  };
}
