import type { ClientBase } from 'pg';
import type { StagedCounts } from '../imports/import.types';
import type { RowBatch } from '../imports/row-batch';

/**
 * Per upload, dropped with its transaction: every row's line and id (to name the first line of a repeated id), and
 * the rows that did not become a signup when their batch was written (their id was in the file before, or stored).
 */
const CREATE_STAGING = `
  CREATE TEMP TABLE import_lines (line INTEGER NOT NULL, external_user_id TEXT NOT NULL) ON COMMIT DROP;
  CREATE TEMP TABLE import_leftovers (
    line INTEGER NOT NULL, external_user_id TEXT NOT NULL, method TEXT NOT NULL, identifier TEXT, user_type TEXT,
    alias TEXT, fingerprint TEXT NOT NULL
  ) ON COMMIT DROP`;

/**
 * Rows of `source` become PENDING signups of this import ($1), due now, in line order; an id already stored (or
 * being stored by another transaction) is skipped. Answers the ids inserted.
 */
const insertSignupsFrom = (source: string) => `
    INSERT INTO signups (external_user_id, method, identifier, user_type, alias, fingerprint, status, next_attempt_at,
                         created_at, updated_at, import_id)
    SELECT external_user_id, method, identifier, user_type, alias, fingerprint, 'PENDING', now(), now(), now(), $1::uuid
    FROM ${source} ORDER BY line
    ON CONFLICT (external_user_id) DO NOTHING
    RETURNING external_user_id`;

/**
 * One batch of valid rows, in line order: new ids become PENDING signups of this import, due now (written as the file
 * streams in, so PostgreSQL stores them while the next rows are parsed); the first row of each id that could not be
 * inserted (stored before, or earlier in the file) and every later row of an id in the batch are left over for commit.
 */
const STAGE_SIGNUPS = `
  WITH batch AS MATERIALIZED (
    SELECT * FROM json_to_recordset($2::json)
      AS b(line int, external_user_id text, method text, identifier text, user_type text, alias text, fingerprint text)
  ), inserted AS (${insertSignupsFrom('batch')}
  ), lines AS (
    INSERT INTO import_lines (line, external_user_id) SELECT line, external_user_id FROM batch
  ), leftover AS (
    INSERT INTO import_leftovers (line, external_user_id, method, identifier, user_type, alias, fingerprint)
    SELECT line, external_user_id, method, identifier, user_type, alias, fingerprint
    FROM (SELECT *, row_number() OVER (PARTITION BY external_user_id ORDER BY line) AS nth FROM batch) numbered
    WHERE nth > 1 OR external_user_id NOT IN (SELECT external_user_id FROM inserted)
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM leftover)::int AS leftovers`;

const STAGE_ERRORS = `
  INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
  SELECT $1::uuid, line, external_user_id, code, message, details
  FROM json_to_recordset($2::json) AS e(line int, external_user_id text, code text, message text, details jsonb)`;

/** Left-over rows of an id seen earlier in the file become DUPLICATE_IN_FILE errors; the first one stays. */
const MARK_DUPLICATES = `
  WITH firsts AS (
    SELECT external_user_id, min(line) AS first_line FROM import_lines
    WHERE external_user_id IN (SELECT external_user_id FROM import_leftovers)
    GROUP BY external_user_id
  ), repeated AS (
    DELETE FROM import_leftovers s USING firsts f WHERE f.external_user_id = s.external_user_id AND s.line > f.first_line
    RETURNING s.line, s.external_user_id, f.first_line
  )
  INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
  SELECT $1::uuid, line, external_user_id, 'DUPLICATE_IN_FILE', 'externalUserId ' || to_json(external_user_id)::text
         || ' appears earlier in the file (line ' || first_line || ')', '[]'::jsonb
  FROM repeated`;

/**
 * Left-over first rows whose id is gone by now (another import's unsent row, withdrawn by its cancel while this file
 * streamed in) become signups after all, as they would have at the end of the file.
 */
const INSERT_FREED = `
  WITH inserted AS (${insertSignupsFrom('import_leftovers')}
  )
  DELETE FROM import_leftovers l USING inserted i WHERE l.external_user_id = i.external_user_id`;

/**
 * Ids stored before (not by this import), under POST /v1/users' rules: the same payload is already registered; a
 * corrected payload takes over a FAILED row (PENDING again, now this import's); any other payload is a conflict.
 */
const SETTLE_EXISTING = `
  WITH existing AS (
    SELECT s.line, s.external_user_id, s.method, s.identifier, s.user_type, s.alias, s.fingerprint,
           g.id AS signup_id, g.fingerprint AS stored_fingerprint, g.status AS stored_status
    FROM import_leftovers s JOIN signups g ON g.external_user_id = s.external_user_id
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
 * One upload's transaction: the import, its row errors and its signups are written as the file streams in and become
 * visible together at commit; a cut-off upload rolls back and leaves nothing.
 */
export class ImportStaging {
  private rows = 0;
  private invalid = 0;
  private inserted = 0;
  private leftovers = 0;
  /** The last batch sent: the next one is parsed while PostgreSQL stores this one (one in flight at most). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly client: ClientBase,
    readonly importId: string,
  ) {}

  /**
   * Opens the upload's transaction. `declareNoEvents` gets its xid before anything is written, and this waits for it:
   * the transaction writes no outbox rows (imported rows get their events when the worker registers them at Capa).
   */
  static async begin(client: ClientBase, importId: string, declareNoEvents: (xid: string) => Promise<void>): Promise<ImportStaging> {
    await client.query('BEGIN');
    const { rows } = await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
    await declareNoEvents(rows[0].xid);
    await client.query(CREATE_STAGING);
    await client.query(`INSERT INTO imports (id, status, created_at) VALUES ($1, 'RUNNING', now())`, [importId]);
    return new ImportStaging(client, importId);
  }

  /** Sends a batch once the previous one is stored; answers without waiting for this one. */
  async add(batch: RowBatch): Promise<void> {
    await this.settled();
    this.rows += batch.signupCount + batch.errorCount;
    this.invalid += batch.errorCount;
    const statements: Promise<unknown>[] = [];
    if (batch.signupCount > 0) {
      statements.push(
        this.client.query<{ inserted: number; leftovers: number }>(STAGE_SIGNUPS, [this.importId, batch.signups]).then(({ rows }) => {
          this.inserted += rows[0].inserted;
          this.leftovers += rows[0].leftovers;
        }),
      );
    }
    if (batch.errorCount > 0) statements.push(this.client.query(STAGE_ERRORS, [this.importId, batch.errors]));
    this.inFlight = Promise.all(statements).then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= error;
      },
    );
  }

  /** Settles the left-over rows (repeated in the file, or stored before), records the counts, and commits. */
  async commit(): Promise<StagedCounts> {
    await this.settled();
    let duplicates = 0;
    let existing = { alreadyRegistered: 0, conflicts: 0, replaced: 0 };
    if (this.leftovers > 0) {
      duplicates = (await this.client.query(MARK_DUPLICATES, [this.importId])).rowCount ?? 0;
      this.inserted += (await this.client.query(INSERT_FREED, [this.importId])).rowCount ?? 0;
      existing = (await this.client.query<typeof existing>(SETTLE_EXISTING, [this.importId])).rows[0];
    }
    const counts: StagedCounts = {
      rows: this.rows,
      invalid: this.invalid + duplicates,
      alreadyRegistered: existing.alreadyRegistered,
      conflicts: existing.conflicts,
      staged: this.inserted + existing.replaced,
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

  /** Waits for the batch in flight; its failure fails the upload. */
  private async settled(): Promise<void> {
    await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }
}
