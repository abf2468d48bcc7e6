import { createTestDatabase, TestDatabase } from './support/database';
import { ServiceProcess, freePort } from './support/service-process';

/**
 * The README's journey in sandbox mode (no CAPA_BASE_URL, no CAPA_WEBHOOK_SECRETS), on the compiled service:
 * register, get a link, the simulator sends Capa's signed webhook, kyc.status is VERIFIED; an operator's refresh reads
 * the PII-heavy details answer. Neither the link nor any field of that answer reaches the logs or the database.
 */
describe('sandbox journey: register, link, verified webhook, refresh', () => {
  let database: TestDatabase;
  let service: ServiceProcess;
  let simulatorUrl: string;
  const inbound = { authorization: 'Bearer dev-inbound-token', 'content-type': 'application/json' };
  const admin = { authorization: 'Bearer dev-admin-token' };

  beforeAll(async () => {
    database = await createTestDatabase();
    const sandboxPort = await freePort();
    service = await ServiceProcess.start({ DATABASE_URL: database.url, LOG_LEVEL: 'debug', SANDBOX_PORT: String(sandboxPort) });
    simulatorUrl = `http://127.0.0.1:${sandboxPort}`;
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await database?.drop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = inbound) =>
    fetch(`${service.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

  it('ends VERIFIED, and keeps the link and the details answer out of logs and storage', async () => {
    const externalUserId = 'journey-user/1';
    const path = `/v1/users/${encodeURIComponent(externalUserId)}`;
    expect((await post('/v1/users', { externalUserId, userType: 'INDIVIDUAL' })).status).toBe(201);

    const link = await post(`${path}/verification-link`, { country: 'MX', redirectUri: 'myapp://kyc-done' });
    expect(link.status).toBe(200);
    const { link: sessionLink } = (await link.json()) as { link: string };
    expect(sessionLink).toMatch(/^https:\/\//);

    const simulated = await fetch(`${simulatorUrl}/__sim/kyc/${encodeURIComponent(externalUserId)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'VERIFIED_USER' }),
    });
    expect(simulated.status).toBe(202);

    let kyc: { status: string } = { status: '' };
    for (let tries = 0; tries < 50 && kyc.status !== 'VERIFIED'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      kyc = ((await (await fetch(`${service.url}${path}`, { headers: inbound })).json()) as { kyc: { status: string } }).kyc;
    }
    expect(kyc).toMatchObject({ status: 'VERIFIED', kind: 'KYC', linkIssuedAt: expect.any(String) });
    const notifications = (await (await fetch(`${simulatorUrl}/__sim/webhooks`)).json()) as { items: Array<{ status: string }> };
    expect(notifications.items.map((item) => item.status)).toEqual(['SENT']);

    const refreshed = await fetch(`${service.url}/admin/users/${encodeURIComponent(externalUserId)}/kyc/refresh`, { method: 'POST', headers: admin });
    expect(refreshed.status).toBe(200);
    expect(((await refreshed.json()) as { kyc: { status: string } }).kyc.status).toBe('VERIFIED');

    const { Client } = await import('pg');
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      const stored = await client.query(
        `SELECT (SELECT json_agg(s)::text FROM signups s) || (SELECT json_agg(a)::text FROM capa_attempts a) || (SELECT json_agg(w)::text FROM capa_webhook_inbox w) AS text`,
      );
      expect(stored.rows[0].text).toContain('kyc-details');
      expect(stored.rows[0].text).not.toContain('SIM-PII');
      expect(stored.rows[0].text).not.toContain(sessionLink);
    } finally {
      await client.end();
    }
    expect(service.logs).toContain('Capa verification call');
    expect(service.logs).not.toContain('SIM-PII');
    expect(service.logs).not.toContain(sessionLink);
  }, 30_000);
});
