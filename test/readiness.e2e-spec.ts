import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createApp } from '../src/app';
import { loadAppConfig } from '../src/config/app-config';
import { DEFAULT_MIGRATIONS_DIR, applyMigrations, shippedMigrationNames } from '../src/persistence/migrator';
import { TestDatabase, createEmptyDatabase } from './support/database';
import { request, useTestApp } from './support/test-app';

describe('readiness follows the database; liveness never looks at it', () => {
  const service = useTestApp();

  it('answers 503 when PostgreSQL stops answering, and 200 again when it comes back', async () => {
    expect((await service.call('GET', '/health/ready')).status).toBe(200);
    const name = new URL(service.databaseUrl).pathname.slice(1);
    const admin = new Client({ connectionString: service.databaseUrl.replace(`/${name}`, '/postgres') });
    await admin.connect();
    try {
      // Lock the app out of its database and cut its connections: to the app, the database is gone.
      await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      const down = await service.call('GET', '/health/ready');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
      expect(JSON.stringify(down.body)).not.toContain('postgres@');
      expect((await service.call('GET', '/health/live')).status).toBe(200);
    } finally {
      await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await service.call('GET', '/health/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});

describe('readiness follows the schema: 503 with the reason while the database is behind this build', () => {
  let database: TestDatabase;
  let app: NestFastifyApplication | undefined;

  beforeAll(async () => {
    database = await createEmptyDatabase('capa_schema');
  });

  afterAll(async () => {
    await app?.close();
    await database.drop();
  });

  it('MIGRATE_ON_BOOT=false on an unmigrated database: 503 naming the pending migrations; 200 once they are applied', async () => {
    app = await createApp(
      loadAppConfig({
        DATABASE_URL: database.url,
        MIGRATE_ON_BOOT: 'false',
        LOG_LEVEL: 'silent',
        WORKER_INTERVAL_MS: '60000',
      }),
    );
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const shipped = await shippedMigrationNames();

    const behind = await request(url, 'GET', '/health/ready', undefined, {});
    expect(behind.status).toBe(503);
    expect(behind.body).toMatchObject({ status: 'error', error: { schema: { status: 'down', pending: shipped } } });
    expect(behind.body.error.schema.reason).toContain('MIGRATE_ON_BOOT');

    // All but the newest migration: still behind, and it says which one is missing.
    const migrationsDir = mkdtempSync(join(tmpdir(), 'migrations-'));
    for (const name of shipped.slice(0, -1)) cpSync(join(DEFAULT_MIGRATIONS_DIR, name), join(migrationsDir, name), { recursive: true });
    await applyMigrations(database.url, { migrationsDir });
    const partly = await request(url, 'GET', '/health/ready', undefined, {});
    expect(partly.status).toBe(503);
    expect(partly.body.error.schema.pending).toEqual(shipped.slice(-1));

    await applyMigrations(database.url);
    const ready = await request(url, 'GET', '/health/ready', undefined, {});
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { schema: { status: 'up' } } });
  });
});
