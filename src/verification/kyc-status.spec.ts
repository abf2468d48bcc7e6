import { KYC_STATUSES, decideKycEvent, decideVerdict, kycStatusFromVerdict, verificationKindFor } from './kyc-status';
import type { KycStatus } from './kyc-status';

describe('decideKycEvent', () => {
  it.each<[KycStatus, string, string, KycStatus]>([
    ['NOT_STARTED', 'CREATED_KYC', 'applied', 'IN_PROGRESS'],
    ['NOT_STARTED', 'REVIEW_NEEDED_KYC', 'applied', 'REVIEW_NEEDED'],
    ['NOT_STARTED', 'VERIFIED_USER', 'applied', 'VERIFIED'],
    ['NOT_STARTED', 'REJECTED_KYC', 'applied', 'REJECTED'],
    ['IN_PROGRESS', 'VERIFIED_USER', 'applied', 'VERIFIED'],
    ['IN_PROGRESS', 'CREATED_KYC', 'applied', 'IN_PROGRESS'],
    ['REVIEW_NEEDED', 'REJECTED_KYC', 'applied', 'REJECTED'],
    // Arrival order: a REJECTED user who retries starts over.
    ['REJECTED', 'CREATED_KYC', 'applied', 'IN_PROGRESS'],
    ['REJECTED', 'VERIFIED_USER', 'applied', 'VERIFIED'],
    ['REVIEW_NEEDED', 'CREATED_KYC', 'applied', 'IN_PROGRESS'],
    // Late redeliveries never undo a verification...
    ['VERIFIED', 'CREATED_KYC', 'ignored', 'VERIFIED'],
    ['VERIFIED', 'REVIEW_NEEDED_KYC', 'ignored', 'VERIFIED'],
    // ...but a rejection after it applies, in arrival order, as the contract says.
    ['VERIFIED', 'REJECTED_KYC', 'applied', 'REJECTED'],
    ['VERIFIED', 'VERIFIED_USER', 'applied', 'VERIFIED'],
    ['IN_PROGRESS', 'KYC_EXPIRED', 'unmatched', 'IN_PROGRESS'],
    ['VERIFIED', 'toString', 'unmatched', 'VERIFIED'],
    ['NOT_STARTED', '', 'unmatched', 'NOT_STARTED'],
  ])('%s + %s -> %s, %s', (current, event, outcome, status) => {
    expect(decideKycEvent(current, event)).toEqual({ outcome, status });
  });
});

describe('verificationKindFor', () => {
  it.each([
    ['BUSINESS', 'KYB'],
    ['INDIVIDUAL', 'KYC'],
    [null, 'KYC'],
  ])('%s -> %s', (userType, kind) => {
    expect(verificationKindFor(userType)).toBe(kind);
  });
});

describe('kycStatusFromVerdict', () => {
  it.each<[unknown, KycStatus | undefined]>([
    ...KYC_STATUSES.map((status): [unknown, KycStatus] => [status, status]),
    ['verified', 'VERIFIED'],
    ['review needed', 'REVIEW_NEEDED'],
    ['APPROVED', 'VERIFIED'],
    ['DECLINED', 'REJECTED'],
    ['REVIEW', 'REVIEW_NEEDED'],
    ['PENDING', 'IN_PROGRESS'],
    ['SOMETHING_NEW', undefined],
    ['constructor', undefined],
    [42, undefined],
    [undefined, undefined],
  ])('%p -> %p', (verdict, status) => {
    expect(kycStatusFromVerdict(verdict)).toBe(status);
  });
});

describe('decideVerdict: a details verdict never moves a status backwards', () => {
  it.each<[KycStatus, unknown, KycStatus | null]>([
    ['IN_PROGRESS', 'NOT_STARTED', null],
    ['IN_PROGRESS', 'SOMETHING_NEW', null],
    ['IN_PROGRESS', undefined, null],
    ['IN_PROGRESS', 'VERIFIED', 'VERIFIED'],
    ['IN_PROGRESS', 'REJECTED', 'REJECTED'],
    ['REVIEW_NEEDED', 'IN_PROGRESS', 'IN_PROGRESS'],
    ['VERIFIED', 'IN_PROGRESS', null],
    ['VERIFIED', 'REVIEW_NEEDED', null],
    ['VERIFIED', 'NOT_STARTED', null],
    ['VERIFIED', 'REJECTED', 'REJECTED'],
    ['REJECTED', 'IN_PROGRESS', 'IN_PROGRESS'],
    ['NOT_STARTED', 'IN_PROGRESS', 'IN_PROGRESS'],
    ['VERIFIED', 'VERIFIED', null],
  ])('%p with verdict %p -> %p', (current, verdict, next) => {
    expect(decideVerdict(current, verdict)).toBe(next);
  });
});
