import type { ClientBase } from 'pg';
import type { StagedCounts } from './import.types';
import type { RowBatch } from './row-batch';
import { tracing } from '../tracing/tracing';

/** Rows moved into signups per transaction: each such transaction is short, so a live call waits for it at most briefly. */
export const MOVE_ROWS = 5000;

const ROW_COLUMNS = 'line int, external_user_id text, method text, identifier text, user_type text, alias text, fingerprint text';

/**
 * An upload, staged in temporary tables of its own session (a connection outside the pool) while the file streams in:
 * each batch is a statement of its own, committed at once, so no transaction stays open, and nothing any other session
 * needs (signups, imports) is locked or uncommitted for the length of an upload. A cut-off upload ends its session and
 * PostgreSQL drops the tables: it leaves nothing.
 *
 * Once the whole file is read, `commit` moves the rows into signups in short transactions of MOVE_ROWS rows each, in
 * externalUserId order (two imports lock ids in the same order and never deadlock; ON CONFLICT DO NOTHING), and then
 * settles the ids that were stored meanwhile under POST /v1/users' rules. While rows move the import is STAGING (not
 * found, not listed); it becomes RUNNING (or COMPLETED) in the last step.
 */
export class ImportStaging {
  private rows = 0;
  private invalid = 0;
  /** The last batch sent: the next one is parsed while PostgreSQL stores this one (one in flight at most). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly staged: string;
  private readonly errors: string;
  private readonly leftovers: string;

  private constructor(
    private readonly client: ClientBase,
    readonly importId: string,
  ) {
    const suffix = importId.replace(/-/g, '');
    this.staged = `import_staged_${suffix}`;
    this.errors = `import_errors_${suffix}`;
    this.leftovers = `import_leftovers_${suffix}`;
  }

  /** Creates the upload's temporary tables (named after the import: the embedded database may share one session). */
  static async begin(client: ClientBase, importId: string): Promise<ImportStaging> {
    const staging = new ImportStaging(client, importId);
    await client.query(`
      CREATE TEMP TABLE ${staging.staged} (${ROW_COLUMNS});
      CREATE TEMP TABLE ${staging.errors} (line int, external_user_id text, code text, message text, details jsonb);
      CREATE TEMP TABLE ${staging.leftovers} (${ROW_COLUMNS})`);
    return staging;
  }

  /** Sends a batch once the previous one is stored; answers without waiting for this one. */
  async add(batch: RowBatch): Promise<void> {
    await this.settled();
    this.rows += batch.signupCount + batch.errorCount;
    this.invalid += batch.errorCount;
    const statements: Promise<unknown>[] = [];
    if (batch.signupCount > 0) {
      statements.push(this.client.query(`INSERT INTO ${this.staged} SELECT * FROM json_to_recordset($1::json) AS b(${ROW_COLUMNS})`, [batch.signups]));
    }
    if (batch.errorCount > 0) {
      statements.push(
        this.client.query(
          `INSERT INTO ${this.errors} SELECT * FROM json_to_recordset($1::json) AS e(line int, external_user_id text, code text, message text, details jsonb)`,
          [batch.errors],
        ),
      );
    }
    this.inFlight = Promise.all(statements).then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= error;
      },
    );
  }

  /** Moves the staged rows into signups (short transactions), settles the rest, and makes the import visible. */
  async commit(): Promise<StagedCounts> {
    await this.settled();
    const id = this.importId;
    // In this session's own tables, locking nothing shared: a repeated id's later lines are DUPLICATE_IN_FILE.
    const { rowCount: duplicates } = await this.client.query(`
      WITH firsts AS (
        SELECT external_user_id, min(line) AS first_line FROM ${this.staged} GROUP BY external_user_id HAVING count(*) > 1
      ), repeated AS (
        DELETE FROM ${this.staged} s USING firsts f WHERE f.external_user_id = s.external_user_id AND s.line > f.first_line
        RETURNING s.line, s.external_user_id, f.first_line
      )
      INSERT INTO ${this.errors} (line, external_user_id, code, message, details)
      SELECT line, external_user_id, 'DUPLICATE_IN_FILE', 'externalUserId ' || to_json(external_user_id)::text
             || ' appears earlier in the file (line ' || first_line || ')', '[]'::jsonb
      FROM repeated`);
    await this.client.query(`CREATE INDEX ON ${this.staged} (external_user_id)`);
    // The import (hidden while STAGING) and its row errors, in one short transaction that only writes new rows.
    await this.client.query('BEGIN');
    await this.client.query(`INSERT INTO imports (id, status, created_at) VALUES ($1, 'STAGING', now())`, [id]);
    await this.client.query(
      `INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
       SELECT $1::uuid, line, external_user_id, code, message, details FROM ${this.errors}`,
      [id],
    );
    await this.client.query('COMMIT');
    // The rows, MOVE_ROWS at a time in id order, each batch its own transaction (one statement).
    let inserted = 0;
    let after = '';
    for (;;) {
      const { rows } = await this.client.query<{ moved: number; inserted: number; last: string | null }>(
        `WITH batch AS MATERIALIZED (
           SELECT * FROM ${this.staged} WHERE external_user_id > $2 ORDER BY external_user_id LIMIT ${MOVE_ROWS}
         ), inserted AS (
           INSERT INTO signups (external_user_id, method, identifier, user_type, alias, fingerprint, status, next_attempt_at,
                                created_at, updated_at, import_id, trace_parent)
           SELECT external_user_id, method, identifier, user_type, alias, fingerprint, 'PENDING', now(), now(), now(), $1::uuid, $3
           FROM batch ORDER BY external_user_id
           ON CONFLICT (external_user_id) DO NOTHING
           RETURNING external_user_id
         ), leftover AS (
           INSERT INTO ${this.leftovers} SELECT * FROM batch WHERE external_user_id NOT IN (SELECT external_user_id FROM inserted)
         )
         SELECT (SELECT count(*) FROM batch)::int AS moved, (SELECT count(*) FROM inserted)::int AS inserted,
                (SELECT max(external_user_id) FROM batch) AS last`,
        // The upload's traceparent (tracing on): each row's drive links to the upload request.
        [id, after, tracing.traceparent() ?? null],
      );
      inserted += rows[0].inserted;
      if (rows[0].moved < MOVE_ROWS || rows[0].last === null) break;
      after = rows[0].last;
    }
    // Ids stored meanwhile (a live call, another import), under POST /v1/users' rules: the same payload is already
    // registered; a corrected payload takes over a FAILED row (PENDING again, now this import's); any other payload is a
    // conflict. Each statement is short and locks only the FAILED rows it takes over.
    const existing = (
      await this.client.query<{ alreadyRegistered: number; conflicts: number; replaced: number }>(
        `WITH existing AS (
           SELECT s.line, s.external_user_id, s.method, s.identifier, s.user_type, s.alias, s.fingerprint,
                  -- The row's fingerprint as the signup stores it (salted once its personal data was erased).
                  signup_fingerprint(s.fingerprint, g.fingerprint_salt) AS compared_fingerprint,
                  g.id AS signup_id, g.fingerprint AS stored_fingerprint, g.status AS stored_status
           FROM ${this.leftovers} s JOIN signups g ON g.external_user_id = s.external_user_id
           WHERE g.import_id IS DISTINCT FROM $1
         ), replaced AS (
           UPDATE signups g SET method = e.method, identifier = e.identifier, user_type = e.user_type, alias = e.alias,
                                fingerprint = e.fingerprint, fingerprint_salt = NULL, erased_at = NULL, status = 'PENDING',
                                error_code = NULL, error_message = NULL,
                                lease_owner = NULL, lease_until = NULL, next_attempt_at = now(), updated_at = now(), import_id = $1
           FROM existing e
           WHERE g.id = e.signup_id AND e.stored_status = 'FAILED' AND g.status = 'FAILED' AND g.fingerprint = e.stored_fingerprint
             AND e.compared_fingerprint <> e.stored_fingerprint
           RETURNING g.id
         ), conflicts AS (
           INSERT INTO import_row_errors (import_id, line, external_user_id, code, message, details)
           SELECT $1::uuid, line, external_user_id, 'EXTERNAL_USER_ID_CONFLICT',
                  'externalUserId ' || to_json(external_user_id)::text || ' is already registered with a different payload', '[]'::jsonb
           FROM existing WHERE compared_fingerprint <> stored_fingerprint AND signup_id NOT IN (SELECT id FROM replaced)
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM existing WHERE compared_fingerprint = stored_fingerprint)::int AS "alreadyRegistered",
                (SELECT count(*) FROM conflicts)::int AS conflicts,
                (SELECT count(*) FROM replaced)::int AS replaced`,
        [id],
      )
    ).rows[0];
    const counts: StagedCounts = {
      rows: this.rows,
      invalid: this.invalid + (duplicates ?? 0),
      alreadyRegistered: existing.alreadyRegistered,
      conflicts: existing.conflicts,
      staged: inserted + existing.replaced,
    };
    await this.client.query(
      `UPDATE imports SET rows = $2, invalid = $3, already_registered = $4, conflicts = $5,
              status = CASE WHEN $6::int = 0 THEN 'COMPLETED'::"ImportStatus" ELSE 'RUNNING'::"ImportStatus" END,
              finished_at = CASE WHEN $6::int = 0 THEN now() END
       WHERE id = $1`,
      [id, counts.rows, counts.invalid, counts.alreadyRegistered, counts.conflicts, counts.staged],
    );
    await this.drop();
    return counts;
  }

  /** Drops the upload's tables (ending the session drops them too). */
  async drop(): Promise<void> {
    await this.client.query(`DROP TABLE IF EXISTS ${this.staged}, ${this.errors}, ${this.leftovers}`);
  }

  /** Waits for the batch in flight; its failure fails the upload. */
  private async settled(): Promise<void> {
    await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
  }
}
