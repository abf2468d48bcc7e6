import { ApiDateTime } from '../common/api-date-time';
import { verificationKindFor } from '../capa/capa-vocabulary';
import type { KycStatus, VerificationKind } from '../capa/capa-vocabulary';

export const SIGNUP_STATUSES = ['PENDING', 'CREATED', 'FAILED', 'NEEDS_ATTENTION'] as const;
export type SignupStatus = (typeof SIGNUP_STATUSES)[number];
export const AUTH_METHODS = ['EMAIL', 'PHONE_NUMBER', 'NONE'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];
export const USER_TYPES = ['INDIVIDUAL', 'BUSINESS'] as const;
export type UserType = (typeof USER_TYPES)[number];

/** A validated, normalised signup request and the fingerprint that identifies its payload. */
export interface SignupRequest {
  externalUserId: string;
  method: AuthMethod;
  identifier: string | null;
  userType: UserType | null;
  alias: string | null;
  fingerprint: string;
}

/** The fields a stored signup and its mapping share, typed once (by the mapping, below). */
type MappedFields = 'externalUserId' | 'userId' | 'status' | 'method' | 'identifier' | 'userType' | 'alias';

/** One stored signup: the durable link externalUserId -> Capa userId, and where it stands. */
export interface SignupRecord extends Pick<SignupMapping, MappedFields> {
  id: bigint;
  fingerprint: string;
  /** Set at erasure: `fingerprint` is then saltedFingerprint(payload fingerprint, this salt) (absent on rows read without it). */
  fingerprintSalt?: string | null;
  /** When identifier and alias were erased (GDPR art. 17); null until then (absent on rows read without it). */
  erasedAt?: Date | null;
  errorCode: string | null;
  errorMessage: string | null;
  attemptCount: number;
  /** When a drive first committed that it calls Capa for this signup (before the call): an import cancel keeps such a row. */
  callStartedAt: Date | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  kycStatus: KycStatus;
  kycUpdatedAt: Date | null;
  kycLinkIssuedAt: Date | null;
  /** The import that brought this signup, null for a live one (absent on rows read without it). */
  importId?: string | null;
  /** W3C traceparent of the request that wrote the row (tracing on; absent on rows read without it). */
  traceParent?: string | null;
  /**
   * The database's clock when the row was read (absent on rows read through Prisma's client). Leases and schedules
   * are compared with it, never with this process's clock, so replicas whose clocks differ agree on who holds a lease.
   */
  observedAt?: Date;
}

/** Where the user stands in identity verification (KYB for businesses). */
export class KycView {
  /** Set by Capa's KYC webhooks (or an operator's refresh) */
  status: KycStatus;
  /** KYB for BUSINESS users, KYC otherwise */
  kind: VerificationKind;
  @ApiDateTime({ nullable: true }) updatedAt: string | null;
  /** When the last verification link was issued */
  @ApiDateTime({ nullable: true }) linkIssuedAt: string | null;
}

/** Capa's last error on a signup that is not CREATED. */
export class SignupError {
  /** @example 'BAD_REQUEST' */
  code: string;
  /** @example 'Provided email is not valid' */
  message: string | null;
}

/** The mapping as the API shows it. */
export class SignupMapping {
  /** @example 'user-8412' */
  externalUserId: string;
  /**
   * Capa's userId once CREATED
   * @example '9486244c-ff7d-4c22-9984-797179d7deaa'
   */
  userId: string | null;
  status: SignupStatus;
  method: AuthMethod;
  identifier: string | null;
  userType: UserType | null;
  alias: string | null;
  @ApiDateTime() createdAt: string;
  @ApiDateTime() updatedAt: string;
  /** Capa's last error code and message */
  error?: SignupError;
  /** Identity verification */
  kyc: KycView;
  /** When identifier and alias were erased (GDPR art. 17; both null since); null until then */
  @ApiDateTime({ nullable: true }) erasedAt: string | null;
}

export function toMapping(row: SignupRecord): SignupMapping {
  return {
    externalUserId: row.externalUserId,
    userId: row.userId,
    status: row.status,
    method: row.method,
    identifier: row.identifier,
    userType: row.userType,
    alias: row.alias,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...(row.errorCode !== null && row.status !== 'CREATED'
      ? { error: { code: row.errorCode, message: row.errorMessage } }
      : {}),
    kyc: {
      status: row.kycStatus,
      kind: verificationKindFor(row.userType),
      updatedAt: row.kycUpdatedAt?.toISOString() ?? null,
      linkIssuedAt: row.kycLinkIssuedAt?.toISOString() ?? null,
    },
    erasedAt: row.erasedAt?.toISOString() ?? null,
  };
}
