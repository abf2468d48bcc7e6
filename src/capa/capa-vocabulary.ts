/** Where a user stands in Capa's identity verification, as this service shows it (`kyc.status`). */
export const KYC_STATUSES = ['NOT_STARTED', 'IN_PROGRESS', 'REVIEW_NEEDED', 'VERIFIED', 'REJECTED'] as const;
export type KycStatus = (typeof KYC_STATUSES)[number];

/** KYB for businesses, KYC for individuals and users registered without a type. */
export type VerificationKind = 'KYC' | 'KYB';

export function verificationKindFor(userType: string | null): VerificationKind {
  return userType === 'BUSINESS' ? 'KYB' : 'KYC';
}
