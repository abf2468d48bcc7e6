import type { ErrorDetail } from '../common/api-error';

export const IMPORT_STATUSES = ['RUNNING', 'COMPLETED', 'CANCELLED'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Where an import's rows stand. `rows` counts every row of the file, invalid ones included. */
export interface ImportCounts {
  rows: number;
  invalid: number;
  alreadyRegistered: number;
  conflicts: number;
  pending: number;
  created: number;
  failed: number;
  needsAttention: number;
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
export interface ImportView {
  id: string;
  status: ImportStatus;
  createdAt: string;
  finishedAt: string | null;
  counts: ImportCounts;
  ratePerSecond: number;
  etaSeconds: number | null;
}

/** One bad row as the API shows it. */
export interface ImportRowErrorView {
  line: number;
  externalUserId?: string;
  code: string;
  message: string;
  details: ErrorDetail[];
}

/** What staging a file found: rows that never became a signup of this import. */
export interface StagedCounts {
  rows: number;
  invalid: number;
  alreadyRegistered: number;
  conflicts: number;
  staged: number;
}
