import { ApiError, ValidationFailedError } from '../common/api-error';

/** 409: a PENDING signup's payload is still needed to finish at Capa; nothing was changed. */
export class SignupPendingError extends ApiError {
  constructor(retryAfterSeconds: number) {
    super(
      409,
      'SIGNUP_PENDING',
      'The signup is PENDING: its payload is still needed to finish at Capa; nothing was erased, retry once it settles',
      undefined,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

/** An erase takes no body, or `{}`: anything else is refused before anything is done. */
export function assertNoBody(body: unknown): void {
  const empty = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) throw new ValidationFailedError([{ message: 'An erase takes no body (or {})' }]);
}
