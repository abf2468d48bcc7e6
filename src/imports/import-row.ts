import type { ErrorDetail } from '../common/api-error';
import { validateBody } from '../common/validate-body';
import { CreateSignupDto } from '../signups/create-signup.dto';
import { normaliseSignup } from '../signups/signup-request';
import type { SignupRequest } from '../signups/signup.types';

/** Capa's field names: the only columns a CSV header may name. */
export const SIGNUP_FIELDS = ['externalUserId', 'method', 'identifier', 'userType', 'alias'] as const;
/** A line longer than a `POST /v1/users` body may be is a row error, and is never held whole in memory. */
export const MAX_ROW_BYTES = 16 * 1024;
/** Row errors keep at most this much of an externalUserId that failed validation. */
const MAX_ERROR_ID_CHARS = 200;

/** A row that did not become a signup: where it is in the file and why. */
export interface RowError {
  line: number;
  externalUserId: string | null;
  code: string;
  message: string;
  details: ErrorDetail[];
}

export type ParsedRow = { ok: true; line: number; request: SignupRequest } | { ok: false; error: RowError };

/** One NDJSON line (not blank) as `POST /v1/users` would take it as a body. */
export function rowFromJsonLine(text: string, line: number): ParsedRow {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return rowError(line, undefined, 'MALFORMED_JSON', 'The line is not valid JSON');
  }
  return rowFromBody(body, line);
}

/** One CSV record against the header's columns; an empty cell means the field is absent. */
export function rowFromCsvRecord(header: readonly string[], cells: readonly string[], line: number): ParsedRow {
  if (cells.length !== header.length) {
    const id = header.indexOf('externalUserId');
    return rowError(line, cells[id], 'VALIDATION_FAILED', `The row has ${cells.length} cells; the header names ${header.length} columns`);
  }
  const body: Record<string, string> = {};
  header.forEach((column, index) => {
    if (cells[index] !== '') body[column] = cells[index];
  });
  return rowFromBody(body, line);
}

/** A row over MAX_ROW_BYTES: too large for `POST /v1/users` as well. */
export function oversizedRow(line: number): ParsedRow {
  return rowError(line, undefined, 'PAYLOAD_TOO_LARGE', `The row is larger than ${MAX_ROW_BYTES / 1024} KiB`);
}

/** Why a CSV header cannot be used (no header, unknown or repeated columns, no externalUserId), or null. */
export function csvHeaderProblem(header: readonly string[]): { message: string; details: ErrorDetail[] } | null {
  const unknown = header.filter((column) => !(SIGNUP_FIELDS as readonly string[]).includes(column));
  if (unknown.length > 0) {
    return {
      message: `The CSV header names unknown columns (the first line must be a header of ${SIGNUP_FIELDS.join(', ')})`,
      details: unknown.map((column) => ({ field: column, message: 'unknown column' })),
    };
  }
  const repeated = header.filter((column, index) => header.indexOf(column) !== index);
  if (repeated.length > 0) {
    return { message: 'The CSV header names a column twice', details: repeated.map((column) => ({ field: column, message: 'repeated column' })) };
  }
  if (!header.includes('externalUserId')) {
    return { message: 'The CSV header must name the externalUserId column', details: [{ field: 'externalUserId', message: 'missing column' }] };
  }
  return null;
}

function rowFromBody(body: unknown, line: number): ParsedRow {
  const nul = fieldsWithNul(body);
  if (nul.length > 0) {
    const id = (body as { externalUserId?: unknown }).externalUserId;
    return rowError(line, id, 'VALIDATION_FAILED', 'The request is invalid', nul.map((field) => ({ field, message: `${field} must not contain the character U+0000` })));
  }
  const validation = validateBody(CreateSignupDto, body);
  if (!validation.ok) {
    const id = (body as { externalUserId?: unknown } | null)?.externalUserId;
    return rowError(line, id, 'VALIDATION_FAILED', 'The request is invalid', validation.details);
  }
  return { ok: true, line, request: normaliseSignup(validation.value) };
}

/**
 * The fields (top-level, as POST /v1/users names them) whose text holds U+0000, which PostgreSQL cannot store as text:
 * such a row is a row error naming the field, never a failed upload.
 */
function fieldsWithNul(body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  return Object.entries(body as Record<string, unknown>)
    .filter(([, value]) => typeof value === 'string' && value.includes('\u0000'))
    .map(([field]) => field.replace(/\u0000/g, '\ufffd'));
}

function rowError(line: number, externalUserId: unknown, code: string, message: string, details: ErrorDetail[] = []): ParsedRow {
  const id = typeof externalUserId === 'string' && externalUserId !== '' ? externalUserId.slice(0, MAX_ERROR_ID_CHARS).replace(/\u0000/g, '\ufffd') : null;
  return { ok: false, error: { line, externalUserId: id, code, message, details } };
}
