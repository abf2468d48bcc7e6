import { Client } from 'pg';
import { useTestApp } from './support/test-app';

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
