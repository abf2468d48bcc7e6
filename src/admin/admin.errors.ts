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

/** One Capa user belongs to one partner user: an operator cannot attach a userId that another signup holds. */
export class UserIdAlreadyAttachedError extends ApiError {
  constructor(userId: string, holder: string) {
    super(HttpStatus.CONFLICT, 'USER_ID_ALREADY_ATTACHED', `Capa userId ${userId} is already attached to ${JSON.stringify(holder)}`);
  }
}

/** An operator's re-drive of a signup that another drive (a caller's request, a worker) is driving right now. */
export class LeaseHeldError extends ApiError {
  constructor(row: SignupRecord) {
    super(
      HttpStatus.CONFLICT,
      'LEASE_HELD',
      `Signup ${JSON.stringify(row.externalUserId)} is being driven by ${row.leaseOwner ?? 'another drive'} until ${row.leaseUntil?.toISOString() ?? 'now'}`,
    );
  }
}
