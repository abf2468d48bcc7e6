import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createEmptyDatabase, TestDatabase } from '../../test/support/database';
import { applyMigrations, CREATE_MIGRATIONS_TABLE, DEFAULT_MIGRATIONS_DIR } from './migrator';

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
  logs: string | null;
}

describe('applyMigrations', () => {
  let database: TestDatabase;
  const tempDirs: string[] = [];

  beforeEach(async () => {
    database = await createEmptyDatabase('capa_migrator');
  });

  afterEach(async () => {
    await database.drop();
    await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function query<Row extends object>(sql: string, values: unknown[] = []): Promise<Row[]> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<Row>(sql, values)).rows;
    } finally {
      await client.end();
    }
  }

  const migrationRows = () =>
    query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count, logs
         FROM "_prisma_migrations" ORDER BY started_at`,
    );

  async function repoMigrationNames(): Promise<string[]> {
    const entries = await readdir(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  }

  async function migrationsDirWith(migrations: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), 'capa-migrations-'));
    tempDirs.push(dir);
    for (const [name, sql] of Object.entries(migrations)) {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, 'migration.sql'), sql);
    }
    return dir;
  }

  const tableExists = async (table: string) =>
    (await query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [table]))[0].found !== null;

  it('creates the schema, its extra indexes and a Prisma history row on an empty database', async () => {
    const result = await applyMigrations(database.url);

    expect(result.applied).toEqual(await repoMigrationNames());
    expect(await tableExists('signups')).toBe(true);
    expect(await tableExists('capa_attempts')).toBe(true);
    const indexes = await query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename IN ('signups', 'capa_attempts')`,
    );
    expect(indexes.map((row) => row.indexname)).toEqual(
      expect.arrayContaining([
        'signups_pkey',
        'signups_external_user_id_key',
        'signups_capa_user_id_key',
        'signups_identifier_idx',
        'capa_attempts_pkey',
        'capa_attempts_signup_id_id_idx',
        'signups_pending_due_idx',
        'signups_status_id_idx',
        'signups_external_user_id_prefix_idx',
      ]),
    );

    const sql = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, '20261127000000_init', 'migration.sql'));
    const row = (await migrationRows()).find((candidate) => candidate.migration_name === '20261127000000_init');
    expect(row).toMatchObject({
      migration_name: '20261127000000_init',
      checksum: createHash('sha256').update(sql).digest('hex'),
      rolled_back_at: null,
      applied_steps_count: 1,
      logs: null,
    });
    expect(row?.finished_at).toBeInstanceOf(Date);
  });

  it('applies nothing the second time', async () => {
    await applyMigrations(database.url);

    await expect(applyMigrations(database.url)).resolves.toEqual({ applied: [] });
    expect(await migrationRows()).toHaveLength((await repoMigrationNames()).length);
  });

  it('applies each migration exactly once when replicas boot together', async () => {
    const migrationsDir = await migrationsDirWith({
      '20260101000000_first': 'CREATE TABLE "first" ("id" INTEGER NOT NULL);',
      '20260102000000_second': 'CREATE TABLE "second" ("id" INTEGER NOT NULL); SELECT pg_sleep(0.2);',
      '20260103000000_third': 'CREATE TABLE "third" ("id" INTEGER NOT NULL);',
    });

    const messages: string[] = [];
    const log = (msg: string) => messages.push(msg);

    const results = await Promise.all([1, 2, 3].map(() => applyMigrations(database.url, { migrationsDir, log })));

    expect(messages).toContain('Waiting for another instance to finish applying migrations');

    expect(results.flatMap((result) => result.applied).sort()).toEqual([
      '20260101000000_first',
      '20260102000000_second',
      '20260103000000_third',
    ]);
    const rows = await migrationRows();
    expect(rows.map((row) => row.migration_name)).toEqual([
      '20260101000000_first',
      '20260102000000_second',
      '20260103000000_third',
    ]);
  });

  it('rolls back a failing migration, records why, and names it in the error', async () => {
    const migrationsDir = await migrationsDirWith({
      '20260101000000_ok': 'CREATE TABLE "ok_table" ("id" INTEGER NOT NULL);',
      '20260102000000_broken': 'CREATE TABLE "half_done" ("id" INTEGER NOT NULL);\nSELECT * FROM "no_such_table";',
    });

    const attempt = applyMigrations(database.url, { migrationsDir });

    await expect(attempt).rejects.toThrow(/20260102000000_broken.*relation "no_such_table" does not exist/);
    expect(await tableExists('ok_table')).toBe(true);
    expect(await tableExists('half_done')).toBe(false);
    const broken = (await migrationRows()).find((row) => row.migration_name === '20260102000000_broken');
    expect(broken).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(broken?.logs).toContain('no_such_table');
  });

  it('refuses to go on while a migration is recorded as failed, and resumes once it is marked rolled back', async () => {
    await query(CREATE_MIGRATIONS_TABLE);
    await query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at)
       VALUES ('6f1c1c60-6d1a-4b55-9d6e-5f0f0c1c0a01', 'deadbeef', '20261127000000_init', now())`,
    );

    await expect(applyMigrations(database.url)).rejects.toThrow(/20261127000000_init.*failed/);
    expect(await tableExists('signups')).toBe(false);

    await query(`UPDATE "_prisma_migrations" SET rolled_back_at = now()`);
    await expect(applyMigrations(database.url)).resolves.toEqual({ applied: await repoMigrationNames() });
  });

  it('warns about a migration edited after it was applied and does not reapply it', async () => {
    const migrationsDir = await migrationsDirWith({ '20260101000000_first': 'CREATE TABLE "first" ("id" INTEGER);' });
    await applyMigrations(database.url, { migrationsDir });
    await writeFile(path.join(migrationsDir, '20260101000000_first', 'migration.sql'), 'CREATE TABLE "first" ();');
    const messages: string[] = [];

    const result = await applyMigrations(database.url, { migrationsDir, log: (msg) => messages.push(msg) });

    expect(result.applied).toEqual([]);
    expect(messages.join('\n')).toMatch(/20260101000000_first was modified after it was applied/);
  });

  it('treats a checksum taken with other line endings as unchanged, as Prisma does', async () => {
    const migrationsDir = await migrationsDirWith({ '20260101000000_first': 'SELECT 1;\nSELECT 2;\n' });
    await applyMigrations(database.url, { migrationsDir });
    await writeFile(path.join(migrationsDir, '20260101000000_first', 'migration.sql'), 'SELECT 1;\r\nSELECT 2;\r\n');
    const messages: string[] = [];

    await applyMigrations(database.url, { migrationsDir, log: (msg) => messages.push(msg) });

    expect(messages.join('\n')).not.toMatch(/modified/);
  });
});
