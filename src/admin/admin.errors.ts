import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { SignupRecord } from '../signups/signup.types';

/** An operator action that the signup's current status does not allow. */
export class InvalidStateError extends ApiError {
  constructor(row: SignupRecord, action: string, allowed: readonly string[]) {
    super(
      HttpStatus.CONFLICT,
      'INVALID_STATE',
      `Cannot ${action} signup ${JSON.stringify(row.externalUserId)}: it is ${row.status}, expected ${allowed.join(' or ')}`,
    );
  }
}
