import { HttpStatus } from '@nestjs/common';
import { ApiSchema } from '@nestjs/swagger';

/** One entry of an error's `details`: which field, and what is wrong with it. */
export class ErrorDetail {
  /** @example 'identifier' */
  field?: string;
  /** @example 'identifier must be a valid email address' */
  message: string;
  [extra: string]: unknown;
}

/**
 * The one error shape every route answers with: {statusCode, code, message, details?}. Its schema in the OpenAPI
 * document keeps the name it has always had (clients and tests refer to it by name).
 */
@ApiSchema({ name: 'ErrorBodyDoc' })
export class ErrorBody {
  /** @example 400 */
  statusCode: number;
  /** @example 'VALIDATION_FAILED' */
  code: string;
  /** @example 'The request is invalid' */
  message: string;
  details?: ErrorDetail[];
}

/** A domain error the global filter turns into the error shape; controllers never catch these. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return {
      statusCode: this.statusCode,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export class ValidationFailedError extends ApiError {
  constructor(details: ErrorDetail[]) {
    super(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'The request is invalid', details);
  }
}

export class UnauthorizedError extends ApiError {
  constructor() {
    super(HttpStatus.UNAUTHORIZED, 'UNAUTHORIZED', 'A valid bearer token is required', undefined, {
      'www-authenticate': 'Bearer',
    });
  }
}

export class NotFoundError extends ApiError {
  constructor(message = 'Not found') {
    super(HttpStatus.NOT_FOUND, 'NOT_FOUND', message);
  }
}

export class ForbiddenError extends ApiError {
  constructor(message = 'Your roles do not allow this') {
    super(HttpStatus.FORBIDDEN, 'FORBIDDEN', message);
  }
}
