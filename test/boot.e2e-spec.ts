import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess } from './support/service-process';
import { request } from './support/test-app';

/** `npm start`'s defaults, as a fresh clone gets them: embedded database + Capa sandbox; and production's refusals. */
describe('boot modes (real child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'capa-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('with no DATABASE_URL and no CAPA_BASE_URL: embedded PostgreSQL + sandbox, a signup works and survives a restart', async () => {
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const first = await ServiceProcess.start(env);
    expect(first.logs).toContain('SANDBOX MODE');
    expect(first.logs).toContain('embedded PostgreSQL');
    const auth = { authorization: 'Bearer dev-inbound-token' };
    const created = await request(first.url, 'POST', '/v1/users', { externalUserId: 'embedded-1', method: 'EMAIL', identifier: 'a@example.com' }, auth);
    expect(created.status).toBe(201);
    expect(created.body.userId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await first.stop('SIGTERM')).code).toBe(0);

    const second = await ServiceProcess.start(env);
    try {
      const read = await request(second.url, 'GET', '/v1/users/embedded-1', undefined, auth);
      expect(read.status).toBe(200);
      expect(read.body.userId).toBe(created.body.userId);
      const replay = await request(second.url, 'POST', '/v1/users', { externalUserId: 'embedded-1', method: 'EMAIL', identifier: 'a@example.com' }, auth);
      expect(replay.status).toBe(200);
    } finally {
      expect((await second.stop('SIGTERM')).code).toBe(0);
    }
  });

  it.each([
    ['CAPA_BASE_URL', { INBOUND_API_KEYS: 'a', ADMIN_API_KEY: 'b' }],
    ['INBOUND_API_KEYS', { CAPA_BASE_URL: 'https://staging-api.capa.fi', CAPA_PARTNER_API_KEY: 'k', ADMIN_API_KEY: 'b' }],
    ['ADMIN_API_KEY', { CAPA_BASE_URL: 'https://staging-api.capa.fi', CAPA_PARTNER_API_KEY: 'k', INBOUND_API_KEYS: 'a' }],
    ['CAPA_PARTNER_API_KEY', { CAPA_BASE_URL: 'https://staging-api.capa.fi', INBOUND_API_KEYS: 'a', ADMIN_API_KEY: 'b' }],
  ])('NODE_ENV=production without %s refuses to boot and names the variable', async (variable, env) => {
    const boot = ServiceProcess.start({ NODE_ENV: 'production', DATA_DIR: dataDir, ...env });
    await expect(boot).rejects.toThrow(new RegExp(`exited during boot[\\s\\S]*${variable}`));
  });

  it('a bad value stops the boot with a clear message that names it', async () => {
    await expect(ServiceProcess.start({ CAPA_TIMEOUT_MS: 'soon', DATA_DIR: dataDir })).rejects.toThrow(/Invalid configuration[\s\S]*CAPA_TIMEOUT_MS/);
  });
});
