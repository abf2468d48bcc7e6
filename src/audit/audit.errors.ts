import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';

/** The audit row of an action could not be written: the action is not done (or, written too late, not answered). */
export class AuditUnavailableError extends ApiError {
  constructor() {
    super(HttpStatus.SERVICE_UNAVAILABLE, 'AUDIT_UNAVAILABLE', 'The audit log cannot be written right now; nothing was done', undefined, {
      'retry-after': '5',
    });
  }
}
