import { types as pgTypes, type CustomTypesConfig } from 'pg';
import { Prisma, type Signup } from '../generated/prisma/client';
import type { SignupRecord } from './signup.types';

/**
 * `signups` columns under the Prisma model's field names, so raw rows map with toRecord like Prisma's own, plus the
 * database's clock at the read (`observedAt`): leases and schedules are compared with it, never with a replica's clock.
 */
export const SIGNUP_COLUMNS = Prisma.sql`
  id, external_user_id AS "externalUserId", capa_user_id AS "userId", status::text AS status, method, identifier,
  user_type AS "userType", alias, fingerprint, error_code AS "errorCode", error_message AS "errorMessage",
  attempt_count AS "attemptCount", lease_owner AS "leaseOwner", lease_until AS "leaseUntil",
  next_attempt_at AS "nextAttemptAt", created_at AS "createdAt", updated_at AS "updatedAt", now() AS "observedAt",
  kyc_status::text AS "kycStatus", kyc_updated_at AS "kycUpdatedAt", kyc_link_issued_at AS "kycLinkIssuedAt",
  import_id AS "importId", call_started_at AS "callStartedAt", trace_parent AS "traceParent",
  fingerprint_salt AS "fingerprintSalt", erased_at AS "erasedAt"`;

/** Values typed as Prisma types them: BIGINT as bigint (pg's default is a string); the rest as pg parses them. */
export const PRISMA_ROW_TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pgTypes.builtins.INT8 && format !== 'binary' ? (value: string) => BigInt(value) : pgTypes.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** Who made an attempt: a caller's request, the background worker, or an operator. */
export type AttemptActor = 'request' | 'worker' | 'operator';

/**
 * A lease on a PENDING row for one drive: `owner` is unique to that drive (never shared by a process's drives), and
 * the lease lasts `ms` from the moment the database writes it.
 */
export interface Lease {
  owner: string;
  ms: number;
}

/** What settling a CREATED outcome came to. */
export type CreatedSettlement =
  | { kind: 'settled'; row: SignupRecord }
  /** The row was CREATED already (by another call or an operator); `row` shows which userId it keeps. */
  | { kind: 'already-created'; row: SignupRecord | null }
  /** Another signup holds this userId (the unique index); the row went to NEEDS_ATTENTION if it could. */
  | { kind: 'user-id-taken'; row: SignupRecord | null };

/** A unique-index violation (SQLSTATE 23505) on the named constraint. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const fields = error as { code?: unknown; constraint?: unknown } | null;
  return fields?.code === '23505' && fields.constraint === constraint;
}

export function toRecord(row: Signup): SignupRecord {
  return {
    ...row,
    method: row.method as SignupRecord['method'],
    userType: row.userType as SignupRecord['userType'],
  };
}
