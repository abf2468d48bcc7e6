export const AUTHENTICATION_METHODS = ['EMAIL', 'PHONE_NUMBER', 'NONE'] as const;
export const USER_TYPES = ['INDIVIDUAL', 'BUSINESS'] as const;

export type AuthenticationMethod = (typeof AUTHENTICATION_METHODS)[number];
export type UserType = (typeof USER_TYPES)[number];

export interface CreateUserPayload {
  externalUserId: string;
  method?: AuthenticationMethod;
  identifier?: string | null;
  userType?: UserType;
  alias?: string;
}

export interface Rejection {
  status: number;
  code: string;
  message: string;
}

export type ValidationResult = { ok: true; payload: CreateUserPayload } | { ok: false; rejection: Rejection };

const ALLOWED_FIELDS = new Set(['externalUserId', 'method', 'identifier', 'userType', 'alias']);
const PHONE_PATTERN = /^\+[1-9]\d{6,14}$/;
// WHATWG "valid email address", additionally requiring a dot in the domain as real providers do.
const EMAIL_PATTERN =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const MAX_EMAIL_LENGTH = 254;

function invalidInput(message: string): ValidationResult {
  return { ok: false, rejection: { status: 400, code: 'INVALID_USER_INPUT_ERROR', message } };
}

function isOneOf<T extends string>(options: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (options as readonly string[]).includes(value);
}

export function isValidEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(value);
}

/**
 * Mirrors Capa's v1 create-user DTO. Optional fields accept null as "absent", like class-validator's
 * @IsOptional, which is what a NestJS backend such as Capa's would use.
 */
export function validateCreateUserBody(body: unknown): ValidationResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, rejection: { status: 400, code: 'BAD_REQUEST', message: 'Request body must be a JSON object' } };
  }
  const fields = body as Record<string, unknown>;
  const unknownField = Object.keys(fields).find((key) => !ALLOWED_FIELDS.has(key));
  if (unknownField !== undefined) return invalidInput(`property ${unknownField} should not exist`);

  const { externalUserId, method, identifier, userType, alias } = fields;
  if (typeof externalUserId !== 'string' || externalUserId.trim() === '') {
    return invalidInput('externalUserId must be a non-empty string');
  }
  if (method != null && !isOneOf(AUTHENTICATION_METHODS, method)) {
    return invalidInput(`method must be one of the following values: ${AUTHENTICATION_METHODS.join(', ')}`);
  }
  if (userType != null && !isOneOf(USER_TYPES, userType)) {
    return invalidInput(`userType must be one of the following values: ${USER_TYPES.join(', ')}`);
  }
  if (alias != null && typeof alias !== 'string') return invalidInput('alias must be a string');

  if (method === 'EMAIL' && !isValidEmail(identifier)) {
    return { ok: false, rejection: { status: 400, code: 'BAD_REQUEST', message: 'Provided email is not valid' } };
  }
  if (method === 'PHONE_NUMBER' && !(typeof identifier === 'string' && PHONE_PATTERN.test(identifier))) {
    return invalidInput('Provided phone number is not valid');
  }
  if ((method == null || method === 'NONE') && identifier != null) {
    return invalidInput('identifier must be null when method is NONE or absent');
  }

  const payload: CreateUserPayload = { externalUserId };
  if (method != null) payload.method = method;
  if (identifier !== undefined) payload.identifier = identifier as string | null;
  if (userType != null) payload.userType = userType;
  if (alias != null) payload.alias = alias;
  return { ok: true, payload };
}
