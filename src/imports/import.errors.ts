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
