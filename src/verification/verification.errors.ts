import { ApiError } from '../common/api-error';
import type { SignupStatus } from '../signups/signup.types';

export class NotRegisteredError extends ApiError {
  constructor(externalUserId: string, status: SignupStatus) {
    super(409, 'NOT_REGISTERED', `Signup ${JSON.stringify(externalUserId)} is not registered at Capa yet (status ${status})`, [
      { message: 'Only a CREATED signup can be verified', status },
    ]);
  }
}

export class AlreadyVerifiedError extends ApiError {
  constructor(externalUserId: string) {
    super(409, 'ALREADY_VERIFIED', `User ${JSON.stringify(externalUserId)} is already verified`);
  }
}

/** Capa refused the verification call; Capa's code is in details[0].capaCode, as for create. */
export class VerificationRejectedError extends ApiError {
  constructor(errorCode: string, errorMessage: string) {
    super(422, 'CAPA_REJECTED', `Capa rejected the verification request: ${errorMessage}`, [{ message: errorMessage, capaCode: errorCode }]);
  }
}

export class CapaMisconfiguredError extends ApiError {
  constructor(httpStatus: number) {
    super(502, 'CAPA_MISCONFIGURED', `Capa answered ${httpStatus}: this service's partner key or account is misconfigured`);
  }
}

export class CapaUnexpectedAnswerError extends ApiError {
  constructor(message: string) {
    super(502, 'CAPA_UNEXPECTED_ANSWER', message);
  }
}

export class CapaUnavailableError extends ApiError {
  constructor(retryAfterSeconds: number) {
    super(503, 'CAPA_UNAVAILABLE', 'Capa could not be reached in time; try again later', undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}
