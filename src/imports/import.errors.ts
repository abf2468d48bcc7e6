import { HttpStatus } from '@nestjs/common';
import { ApiError, ErrorDetail } from '../common/api-error';

/** The upload is not a file this service can read (not NDJSON/CSV, no or a bad CSV header): nothing is staged. */
export class InvalidImportFileError extends ApiError {
  constructor(message: string, details?: ErrorDetail[]) {
    super(HttpStatus.BAD_REQUEST, 'INVALID_IMPORT_FILE', message, details);
  }
}

/** Over the row or size limit: nothing is staged. */
export class ImportTooLargeError extends ApiError {
  constructor(message: string) {
    super(HttpStatus.PAYLOAD_TOO_LARGE, 'PAYLOAD_TOO_LARGE', message);
  }
}

export class UnsupportedImportTypeError extends ApiError {
  constructor() {
    super(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'UNSUPPORTED_MEDIA_TYPE', 'An import is sent as application/x-ndjson or text/csv');
  }
}

/** IMPORT_MAX_UPLOADS uploads are being staged on this replica already: try again shortly. */
export class TooManyUploadsError extends ApiError {
  constructor(retryAfterSeconds: number) {
    super(HttpStatus.TOO_MANY_REQUESTS, 'TOO_MANY_UPLOADS', 'Too many uploads are being staged at once; retry later', undefined, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

/** The upload sent nothing for IMPORT_IDLE_TIMEOUT_MS: aborted, nothing staged. */
export class UploadIdleError extends ApiError {
  constructor(idleMs: number) {
    super(HttpStatus.REQUEST_TIMEOUT, 'UPLOAD_IDLE_TIMEOUT', `The upload sent nothing for ${idleMs} ms; nothing was staged`);
  }
}
