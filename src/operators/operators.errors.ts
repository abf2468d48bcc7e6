import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/** The identity provider (discovery, keys) cannot be reached: sign-in is not possible right now. */
export class OidcUnavailableError extends ApiError {
  constructor() {
    super(HttpStatus.SERVICE_UNAVAILABLE, 'OIDC_UNAVAILABLE', 'The identity provider cannot be reached; try again shortly', undefined, { 'retry-after': '5' });
  }
}

/** A sign-in that cannot complete: no or another browser's login, the IdP's error, a refused code, a bad ID token. */
export class LoginFailedError extends ApiError {
  constructor(message = 'The sign-in could not be completed; start again') {
    super(HttpStatus.BAD_REQUEST, 'LOGIN_FAILED', message);
  }
}

/** A cookie-authenticated write without the session's CSRF token, or from another origin. */
export class CsrfFailedError extends ApiError {
  constructor() {
    super(HttpStatus.FORBIDDEN, 'CSRF_FAILED', 'A signed-in write needs the X-CSRF-Token header of this session, from this origin');
  }
}

/** Operator sign-in is not configured (no ADMIN_OIDC_ISSUER). */
export class SignInNotConfiguredError extends ApiError {
  constructor() {
    super(HttpStatus.NOT_FOUND, 'NOT_FOUND', 'Operator sign-in is not configured (ADMIN_OIDC_ISSUER)');
  }
}
