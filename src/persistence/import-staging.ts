import type { ClientBase } from 'pg';
import type { RowError } from '../imports/import-row';
import type { StagedCounts } from '../imports/import.types';
import type { SignupRequest } from '../signups/signup.types';

/** Staged rows, line-numbered, as the file had them; dropped with the transaction. */
const CREATE_STAGING = `
  CREATE TEMP TABLE import_staging (
    line INTEGER NOT NULL, external_user_id TEXT NOT NULL, method TEXT NOT NULL, identifier TEXT, user_type TEXT,
    alias TEXT, fingerprint TEXT NOT NULL
  ) ON COMMIT DROP`;

const STAGE_ROWS = `
  INSERT INTO import_staging (line, external_user_id, method, identifier, user_type, alias, fingerprint)
  SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`;

const STAGE_ERRORS = `
  INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
  SELECT $1::uuid, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::jsonb[])`;

/** Later rows with an externalUserId seen earlier in the file become DUPLICATE_IN_FILE errors; the first one stays. */
const MARK_DUPLICATES = `
  WITH ranked AS (
    SELECT line, external_user_id, min(line) OVER (PARTITION BY external_user_id) AS first_line FROM import_staging
  ), repeated AS (
    DELETE FROM import_staging s USING ranked r WHERE r.line = s.line AND r.line > r.first_line
    RETURNING s.line, s.external_user_id, r.first_line
  )
  INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
  SELECT $1::uuid, line, external_user_id, 'DUPLICATE_IN_FILE', 'externalUserId ' || to_json(external_user_id)::text
         || ' appears earlier in the file (line ' || first_line || ')', '[]'::jsonb
  FROM repeated`;

/** New ids become PENDING signups of this import, due now; an id already stored is left to the next statement. */
const INSERT_SIGNUPS = `
  INSERT INTO signups (external_user_id, method, identifier, user_type, alias, fingerprint, status, next_attempt_at,
                       created_at, updated_at, import_id)
  SELECT external_user_id, method, identifier, user_type, alias, fingerprint, 'PENDING', now(), now(), now(), $1::uuid
  FROM import_staging ORDER BY line
  ON CONFLICT (external_user_id) DO NOTHING`;

/**
 * Ids stored before (not by this import), under POST /v1/users' rules: the same payload is already registered; a
 * corrected payload takes over a FAILED row (PENDING again, now this import's); any other payload is a conflict.
 */
const SETTLE_EXISTING = `
  WITH existing AS (
    SELECT s.line, s.external_user_id, s.method, s.identifier, s.user_type, s.alias, s.fingerprint,
           g.id AS signup_id, g.fingerprint AS stored_fingerprint, g.status AS stored_status
    FROM import_staging s JOIN signups g ON g.external_user_id = s.external_user_id
    WHERE g.import_id IS DISTINCT FROM $1
  ), replaced AS (
    UPDATE signups g SET method = e.method, identifier = e.identifier, user_type = e.user_type, alias = e.alias,
                         fingerprint = e.fingerprint, status = 'PENDING', error_code = NULL, error_message = NULL,
                         lease_owner = NULL, lease_until = NULL, next_attempt_at = now(), updated_at = now(), import_id = $1
    FROM existing e
    WHERE g.id = e.signup_id AND e.stored_status = 'FAILED' AND g.status = 'FAILED' AND g.fingerprint = e.stored_fingerprint
      AND e.fingerprint <> e.stored_fingerprint
    RETURNING g.id
  ), conflicts AS (
    INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
    SELECT $1::uuid, line, external_user_id, 'EXTERNAL_USER_ID_CONFLICT',
           'externalUserId ' || to_json(external_user_id)::text || ' is already registered with a different payload', '[]'::jsonb
    FROM existing WHERE fingerprint <> stored_fingerprint AND signup_id NOT IN (SELECT id FROM replaced)
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM existing WHERE fingerprint = stored_fingerprint)::int AS "alreadyRegistered",
         (SELECT count(*) FROM conflicts)::int AS conflicts,
         (SELECT count(*) FROM replaced)::int AS replaced`;

/**
 * One upload's transaction: the import, its row errors and its staged rows are written as the file streams in and
 * become visible together at commit; a cut-off upload rolls back and leaves nothing.
 */
export class ImportStaging {
  private readonly rows: SignupRequest[] = [];
  private readonly lines: number[] = [];
  private readonly errors: RowError[] = [];
  private errorCount = 0;
  /** The last batch sent: the next one is built while PostgreSQL stores this one (one in flight at most). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly client: ClientBase,
    readonly importId: string,
    private readonly batchSize: number,
  ) {}

  static async begin(client: ClientBase, importId: string, batchSize: number): Promise<ImportStaging> {
    await client.query('BEGIN');
    await client.query(CREATE_STAGING);
    await client.query(`INSERT INTO imports (id, status, created_at) VALUES ($1, 'RUNNING', now())`, [importId]);
    return new ImportStaging(client, importId, batchSize);
  }

  async addRow(line: number, request: SignupRequest): Promise<void> {
    this.rows.push(request);
    this.lines.push(line);
    if (this.rows.length >= this.batchSize) await this.flushRows();
  }

  async addError(error: RowError): Promise<void> {
    this.errors.push(error);
    this.errorCount += 1;
    if (this.errors.length >= this.batchSize) await this.flushErrors();
  }

  /** Turns the staged rows into signups and row errors, records the counts, and commits. */
  async commit(rowCount: number): Promise<StagedCounts> {
    await this.flushRows();
    await this.flushErrors();
    await this.settled();
    const duplicates = (await this.client.query(MARK_DUPLICATES, [this.importId])).rowCount ?? 0;
    const inserted = (await this.client.query(INSERT_SIGNUPS, [this.importId])).rowCount ?? 0;
    const existing = (await this.client.query<{ alreadyRegistered: number; conflicts: number; replaced: number }>(SETTLE_EXISTING, [this.importId])).rows[0];
    const counts: StagedCounts = {
      rows: rowCount,
      invalid: this.errorCount + duplicates,
      alreadyRegistered: existing.alreadyRegistered,
      conflicts: existing.conflicts,
      staged: inserted + existing.replaced,
    };
    await this.client.query(
      `UPDATE imports SET rows = $2, invalid = $3, already_registered = $4, conflicts = $5,
              status = CASE WHEN $6::int = 0 THEN 'COMPLETED'::"ImportStatus" ELSE status END,
              finished_at = CASE WHEN $6::int = 0 THEN now() END
       WHERE id = $1`,
      [this.importId, counts.rows, counts.invalid, counts.alreadyRegistered, counts.conflicts, counts.staged],
    );
    await this.client.query('COMMIT');
    return counts;
  }

  async rollback(): Promise<void> {
    await this.client.query('ROLLBACK');
  }

  private send(sql: string, values: unknown[]): void {
    this.inFlight = this.client.query(sql, values).then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= error;
      },
    );
  }

  /** Waits for the batch in flight; its failure fails the upload. */
  private async settled(): Promise<void> {
    await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }

  private async flushRows(): Promise<void> {
    if (this.rows.length === 0) return;
    await this.settled();
    const column = <K extends keyof SignupRequest>(key: K) => this.rows.map((row) => row[key]);
    this.send(STAGE_ROWS, [
      this.lines.splice(0),
      column('externalUserId'),
      column('method'),
      column('identifier'),
      column('userType'),
      column('alias'),
      column('fingerprint'),
    ]);
    this.rows.length = 0;
  }

  private async flushErrors(): Promise<void> {
    if (this.errors.length === 0) return;
    await this.settled();
    const column = <K extends keyof RowError>(key: K) => this.errors.map((error) => error[key]);
    this.send(STAGE_ERRORS, [
      this.importId,
      column('line'),
      column('externalUserId'),
      column('code'),
      column('message'),
      this.errors.map((error) => JSON.stringify(error.details)),
    ]);
    this.errors.length = 0;
  }
}
