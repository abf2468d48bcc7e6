import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime } from '../common/api-date-time';
import type { ErrorDetail } from '../common/api-error';

export const IMPORT_STATUSES = ['RUNNING', 'COMPLETED', 'CANCELLED'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Where an import's rows stand. `rows` counts every row of the file, invalid ones included. */
export class ImportCounts {
  /** Every row of the file, invalid ones included (blank lines are not rows) */
  rows: number;
  /** Rows that failed validation, were not JSON, or repeated an id earlier in the file */
  invalid: number;
  /** Ids already registered with the same payload: nothing to do */
  alreadyRegistered: number;
  /** Ids already registered with a different payload (EXTERNAL_USER_ID_CONFLICT row errors) */
  conflicts: number;
  pending: number;
  created: number;
  failed: number;
  needsAttention: number;
  /** Rows withdrawn by a cancel before they were sent to Capa */
  cancelled: number;
}

/** An import as stored, with its signups counted by status now (database time). */
export interface ImportRecord {
  id: string;
  status: ImportStatus;
  createdAt: Date;
  finishedAt: Date | null;
  counts: ImportCounts;
  /** Rows of this import settled (no longer PENDING) within the last RATE_WINDOW_SECONDS. */
  settledRecently: number;
  now: Date;
}

/** The import as the API shows it. */
export class ImportView {
  @ApiProperty({ format: 'uuid' }) id: string;
  status: ImportStatus;
  @ApiDateTime() createdAt: string;
  @ApiDateTime({ nullable: true }) finishedAt: string | null;
  counts: ImportCounts;
  /** Rows settled per second over the last 30 s */
  ratePerSecond: number;
  /** Seconds until no row is pending, at that pace */
  etaSeconds: number | null;
}

/** `GET /v1/imports` and `GET /admin/imports` answer. */
export class ImportList {
  items: ImportView[];
}

/** One bad row as the API shows it. */
export class ImportRowErrorView {
  /** The line in the file, from 1 (a CSV header is line 1) */
  line: number;
  externalUserId?: string;
  /** @example 'VALIDATION_FAILED' */
  code: string;
  message: string;
  /** {field?, message} per problem, as POST /v1/users answers */
  @ApiProperty({ type: 'array', items: { type: 'object' } }) details: ErrorDetail[];
}

/** An import's bad rows, keyset-paginated. */
export class ImportErrorPage {
  items: ImportRowErrorView[];
  nextCursor: string | null;
}

/** What staging a file found: rows that never became a signup of this import. */
export interface StagedCounts {
  rows: number;
  invalid: number;
  alreadyRegistered: number;
  conflicts: number;
  staged: number;
}
