import { hash } from 'node:crypto';
import { parsePhoneNumberWithError } from 'libphonenumber-js';
import type { CapaCreateUserRequest } from '../capa/capa.gateway';
import type { CreateSignupDto } from './create-signup.dto';
import type { SignupRecord, SignupRequest } from './signup.types';

/** Bodies the validation pipe hands out again (frozen, for identical retries), normalised once. */
const normalisedBodies = new WeakMap<CreateSignupDto, SignupRequest>();

/** Normalises a validated body (absent method means NONE; email domains lower-cased; phones in E.164) and fingerprints it. */
export function normaliseSignup(body: CreateSignupDto): SignupRequest {
  const known = normalisedBodies.get(body);
  if (known !== undefined) return known;
  const request = normalise(body);
  if (Object.isFrozen(body)) normalisedBodies.set(body, Object.freeze(request));
  return request;
}

function normalise(body: CreateSignupDto): SignupRequest {
  const method = body.method ?? 'NONE';
  const identifier = normaliseIdentifier(method, body.identifier ?? null);
  const fields = {
    externalUserId: body.externalUserId,
    method,
    identifier,
    userType: body.userType ?? null,
    alias: body.alias ?? null,
  };
  return { ...fields, fingerprint: fingerprintOf(fields) };
}

function normaliseIdentifier(method: string, identifier: string | null): string | null {
  if (identifier === null || method === 'NONE') return null;
  if (method === 'EMAIL') {
    const at = identifier.lastIndexOf('@');
    return `${identifier.slice(0, at)}@${identifier.slice(at + 1).toLowerCase()}`;
  }
  return parsePhoneNumberWithError(identifier).number;
}

/** SHA-256 over the normalised payload in a fixed field order: equal payloads, equal fingerprints. */
export function fingerprintOf(fields: Omit<SignupRequest, 'fingerprint'>): string {
  const canonical = JSON.stringify([fields.externalUserId, fields.method, fields.identifier, fields.userType, fields.alias]);
  return hash('sha256', canonical);
}

/**
 * The fingerprint a stored row holds for a payload: the payload's own, or after an erasure SHA-256 of the row's random
 * salt followed by it (the SQL function signup_fingerprint computes the same), so a replay of the erased payload still
 * matches its row while a guessed identifier must be hashed once per row to be checked.
 */
export function saltedFingerprint(fingerprint: string, salt: string | null | undefined): string {
  return salt === null || salt === undefined ? fingerprint : hash('sha256', salt + fingerprint);
}

/** The request's fingerprint as `row` stores fingerprints: salted with the row's salt once its personal data was erased. */
export function fingerprintAgainst(row: SignupRecord, request: SignupRequest): string {
  return saltedFingerprint(request.fingerprint, row.fingerprintSalt);
}

/** The body sent to Capa for a stored signup, in Capa's field names; absent optional fields are left out. */
export function capaRequestFor(row: SignupRecord): CapaCreateUserRequest {
  return {
    externalUserId: row.externalUserId,
    method: row.method,
    identifier: row.identifier,
    ...(row.userType !== null ? { userType: row.userType } : {}),
    ...(row.alias !== null ? { alias: row.alias } : {}),
  };
}
