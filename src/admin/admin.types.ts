import type { SignupRecord, SignupStatus } from '../signups/signup.types';
import type { KycStatus } from '../verification/kyc-status';

/** One page of the admin list, newest first; `hasMore` says whether older rows follow the last one. */
export interface SignupPage {
  rows: SignupRecord[];
  hasMore: boolean;
}

/** What an operator filters the list by; every field is optional. */
export interface SignupListFilter {
  status?: SignupStatus;
  kycStatus?: KycStatus;
  /** Prefix of externalUserId, or an exact Capa userId, or an exact identifier. */
  search?: string;
  /** Only rows with an id below this one (keyset pagination, newest first). */
  beforeId?: bigint;
  limit: number;
}

/** One row of the attempts log: a Capa call, or an operator's action. */
export interface StoredAttempt {
  at: Date;
  actor: string;
  /** The Capa endpoint called: create, kyc-link, kyb-link, kyc-details, kyb-details, or resolve (an operator attached a userId). */
  operation: string;
  outcome: string;
  httpStatus: number | null;
  latencyMs: number;
  errorCode: string | null;
  errorMessage: string | null;
}

/** Signups created in one UTC hour, by status. */
export interface HourlySignupCount {
  /** Start of the hour, ISO 8601 in UTC. */
  bucket: string;
  status: SignupStatus;
  count: number;
}
