import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Client, DatabaseError } from 'pg';

/** Two levels up from both src/persistence (ts-jest) and dist/persistence (compiled). */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'prisma', 'migrations');

// The key `prisma migrate deploy` locks, so a replica booting and a Prisma deploy Job exclude each other too.
const MIGRATION_LOCK_KEY = 72707369;

/** Prisma's own history table, as `prisma migrate` creates it. */
export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

export interface ApplyMigrationsOptions {
  migrationsDir?: string;
  log?: (msg: string) => void;
}

export interface ApplyMigrationsResult {
  applied: string[];
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface MigrationRecord {
  migration_name: string;
  checksum: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function applyMigrations(
  connectionString: string,
  options: ApplyMigrationsOptions = {},
): Promise<ApplyMigrationsResult> {
  const log = options.log ?? (() => undefined);
  const migrations = await readMigrations(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);

  const client = new Client({ connectionString });
  // An idle client whose connection drops emits 'error'; unhandled, that would kill the process.
  client.on('error', (error) => log(`Migration connection error: ${error.message}`));
  let locked = false;
  try {
    await client.connect();
    await acquireMigrationLock(client, log);
    locked = true;
    await client.query(CREATE_MIGRATIONS_TABLE);

    const records = await readMigrationRecords(client);
    throwIfAnyMigrationFailed(records);

    const applied: string[] = [];
    for (const migration of migrations) {
      const record = records.find(
        (row) => row.migration_name === migration.name && row.finished_at !== null && row.rolled_back_at === null,
      );
      if (record) {
        if (!checksumMatches(migration.sql, record.checksum)) {
          log(`Warning: migration ${migration.name} was modified after it was applied; it is not applied again.`);
        }
        continue;
      }
      log(`Applying migration ${migration.name}`);
      await applyMigration(client, migration);
      applied.push(migration.name);
    }
    log(applied.length > 0 ? `Applied ${applied.length} migration(s)` : 'No pending migrations');
    return { applied };
  } finally {
    if (locked) {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
    await client.end().catch(() => undefined);
  }
}

/** The names of the migrations this build ships, in the order they apply. */
export async function shippedMigrationNames(migrationsDir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  return (await readMigrations(migrationsDir)).map((migration) => migration.name);
}

async function readMigrations(migrationsDir: string): Promise<MigrationFile[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`Cannot read the migrations directory ${migrationsDir}: ${error.message}`);
  });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      const content = await readFile(file).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`Migration ${name} has no readable migration.sql (${file}): ${error.message}`);
      });
      return { name, sql: content.toString('utf8'), checksum: sha256Hex(content) };
    }),
  );
}

async function acquireMigrationLock(client: Client, log: (msg: string) => void): Promise<void> {
  const attempt = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
    MIGRATION_LOCK_KEY,
  ]);
  if (attempt.rows[0].locked) return;
  log('Waiting for another instance to finish applying migrations');
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
}

async function readMigrationRecords(client: Client): Promise<MigrationRecord[]> {
  const result = await client.query<MigrationRecord>(
    `SELECT migration_name, checksum, started_at, finished_at, rolled_back_at
       FROM "_prisma_migrations" ORDER BY started_at`,
  );
  return result.rows;
}

function throwIfAnyMigrationFailed(records: MigrationRecord[]): void {
  const failed = records.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (!failed) return;
  throw new Error(
    `Migration ${failed.migration_name} started at ${failed.started_at.toISOString()} failed and is not resolved, ` +
      'so no migrations will be applied (Prisma P3009). Repair the database, then mark it with ' +
      `\`prisma migrate resolve --applied ${failed.migration_name}\` or \`--rolled-back ${failed.migration_name}\`.`,
  );
}

async function applyMigration(client: Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  const startedAt = new Date();
  // Unlike Prisma, the history row is written in the migration's own transaction: a crash mid-way
  // leaves nothing behind, so the next boot simply retries instead of blocking on a failed row.
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, $4, 0)`,
      [id, migration.checksum, migration.name, startedAt],
    );
    await client.query(migration.sql);
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    const reason = describeDatabaseError(error);
    await client
      .query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs, applied_steps_count)
         VALUES ($1, $2, $3, $4, $5, 0)`,
        [id, migration.checksum, migration.name, startedAt, reason.logs],
      )
      .catch(() => undefined);
    throw new Error(`Migration ${migration.name} failed and was rolled back: ${reason.message}`, { cause: error });
  }
}

function describeDatabaseError(error: unknown): { message: string; logs: string } {
  if (error instanceof DatabaseError) {
    const details = [error.detail && `DETAIL: ${error.detail}`, error.hint && `HINT: ${error.hint}`]
      .filter(Boolean)
      .join('\n');
    return {
      message: `${error.message} (SQLSTATE ${error.code})`,
      logs: `Database error code: ${error.code}\n\nDatabase error:\nERROR: ${error.message}${details ? `\n${details}` : ''}`,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, logs: message };
}

// Prisma accepts a script whose line endings changed since it was applied (git autocrlf).
function checksumMatches(sql: string, checksum: string): boolean {
  const variants = [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\r?\n/g, '\r\n')];
  return variants.some((variant) => sha256Hex(Buffer.from(variant, 'utf8')) === checksum);
}

function sha256Hex(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
