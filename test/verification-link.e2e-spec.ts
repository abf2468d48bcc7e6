import { AppMetrics } from '../src/metrics/app-metrics';
import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { createTestDatabase, TestDatabase } from './support/database';
import { ServiceProcess } from './support/service-process';
import { ADMIN_TOKEN, CAPA_KEY, INBOUND_TOKEN, request, useTestApp, uniqueId, usersPath } from './support/test-app';
import { WEBHOOK_ENV, deliver, kycOf, register } from './support/webhooks';

const linkPath = (externalUserId: string) => `${usersPath(externalUserId)}/verification-link`;

/** A series' value in Prometheus text (0 when the series is absent, as for a counter never raised). */
function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('POST /v1/users/{externalUserId}/verification-link', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  const requestLink = (externalUserId: string, body: unknown = { country: 'MX' }, headers?: Record<string, string>) =>
    service.call('POST', linkPath(externalUserId), body, headers);

  /** Everything stored about a signup and its attempts, as one string to search. */
  const storedText = async (externalUserId: string) =>
    JSON.stringify(
      (
        await service.query(
          `SELECT s.*, (SELECT json_agg(a) FROM capa_attempts a WHERE a.signup_id = s.id) AS attempts FROM signups s WHERE external_user_id = $1`,
          [externalUserId],
        )
      ).rows,
    );

  it('200: a KYC link for an individual; linkIssuedAt set, status unchanged, the link stored nowhere', async () => {
    const id = uniqueId('link-kyc');
    const userId = (await register(service, id, 'INDIVIDUAL')).body.userId;
    const response = await requestLink(id, { country: 'MX', redirectUri: 'myapp://kyc-done' });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ externalUserId: id, userId, kind: 'KYC', link: service.simulator.verification.issuedLinks.at(-1), issuedAt: expect.any(String) });
    expect(response.body.link).toMatch(/^https:\/\/verify\.sandbox\.capa\.invalid\/kyc\//);
    expect(await kycOf(service, id)).toEqual({ status: 'NOT_STARTED', kind: 'KYC', updatedAt: null, linkIssuedAt: response.body.issuedAt });
    const stored = await storedText(id);
    expect(stored).not.toContain(response.body.link);
    expect(stored).toContain('"operation":"kyc-link"');
  });

  it('200: a KYB link for a business, read from an undocumented field name', async () => {
    const id = uniqueId('link-kyb');
    await register(service, id, 'BUSINESS');
    const response = await requestLink(id, { country: 'DE', redirectUri: 'https://partner.example/kyb?step=2' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ kind: 'KYB', link: expect.stringMatching(/^https:\/\/verify\.sandbox\.capa\.invalid\/kyb\//) });
    expect(await storedText(id)).toContain('"operation":"kyb-link"');
  });

  it('a user without a type gets a KYC link', async () => {
    const id = uniqueId('link-untyped');
    await register(service, id);
    expect((await requestLink(id)).body.kind).toBe('KYC');
  });

  describe('400 VALIDATION_FAILED, nothing sent to Capa', () => {
    it.each<[string, unknown, string]>([
      ['no country', {}, 'country'],
      ['a lower-case country', { country: 'mx' }, 'country'],
      ['a country Capa does not list', { country: 'BR' }, 'country'],
      ['a three-letter country', { country: 'MEX' }, 'country'],
      ['a numeric country', { country: 52 }, 'country'],
      ['a javascript: redirect', { country: 'MX', redirectUri: 'javascript:alert(1)' }, 'redirectUri'],
      ['a JavaScript:// redirect', { country: 'MX', redirectUri: 'JavaScript://%0aalert(1)' }, 'redirectUri'],
      ['an http redirect', { country: 'MX', redirectUri: 'http://partner.example/done' }, 'redirectUri'],
      ['a data: redirect', { country: 'MX', redirectUri: 'data://text/html,hi' }, 'redirectUri'],
      ['a file: redirect', { country: 'MX', redirectUri: 'file:///etc/passwd' }, 'redirectUri'],
      ['a vbscript: redirect', { country: 'MX', redirectUri: 'vbscript://msgbox' }, 'redirectUri'],
      ['a relative redirect', { country: 'MX', redirectUri: '/done' }, 'redirectUri'],
      ['a redirect with spaces', { country: 'MX', redirectUri: 'https://partner.example/a b' }, 'redirectUri'],
      ['a redirect over 2048 characters', { country: 'MX', redirectUri: `https://partner.example/${'a'.repeat(2030)}` }, 'redirectUri'],
      ['an unknown field', { country: 'MX', partnerRedirectUri: 'https://x.example' }, 'partnerRedirectUri'],
    ])('%s', async (_name, body, field) => {
      const id = uniqueId('link-invalid');
      await register(service, id);
      const before = service.simulator.stats().requests;
      const response = await requestLink(id, body);

      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
      expect(service.simulator.stats().requests).toBe(before);
    });

    it('accepts a redirect of exactly 2048 characters', async () => {
      const id = uniqueId('link-2048');
      await register(service, id);
      const redirectUri = `https://partner.example/${'a'.repeat(2048 - 'https://partner.example/'.length)}`;
      expect((await requestLink(id, { country: 'MX', redirectUri })).status).toBe(200);
    });
  });

  it('401 without a valid inbound token (the admin token included), nothing sent to Capa', async () => {
    const id = uniqueId('link-auth');
    await register(service, id);
    const before = service.simulator.stats().requests;
    for (const authorization of ['', 'Bearer wrong', `Bearer ${ADMIN_TOKEN}`]) {
      expect((await requestLink(id, { country: 'MX' }, { authorization })).status).toBe(401);
    }
    expect(service.simulator.stats().requests).toBe(before);
  });

  it('404 NOT_FOUND for an unknown externalUserId', async () => {
    const response = await requestLink(uniqueId('nobody'));
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });

  it.each(['PENDING', 'FAILED', 'NEEDS_ATTENTION'])('409 NOT_REGISTERED for a %s signup, with its status in details', async (status) => {
    const id = uniqueId('link-unregistered');
    await service.query(`INSERT INTO signups (external_user_id, status, method, fingerprint) VALUES ($1, $2, 'NONE', 'seeded')`, [id, status]);
    const response = await requestLink(id);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'NOT_REGISTERED', details: [expect.objectContaining({ status })] });
  });

  it('409 ALREADY_VERIFIED once kyc.status is VERIFIED', async () => {
    const id = uniqueId('link-verified');
    await register(service, id);
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: id });
    const response = await requestLink(id);
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('ALREADY_VERIFIED');
  });

  it('422 CAPA_REJECTED with capaCode when the partner account has no template for the country', async () => {
    const id = uniqueId('link-template');
    await register(service, id);
    service.simulator.configureWebhooks({ templateMissing: ['US'] });
    try {
      const response = await requestLink(id, { country: 'US' });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ code: 'CAPA_REJECTED', details: [{ capaCode: 'KYC_TEMPLATE_NOT_CONFIGURED_ERROR' }] });
      expect((await kycOf(service, id)).linkIssuedAt).toBeNull();
    } finally {
      service.simulator.configureWebhooks({ templateMissing: [] });
    }
  });

  it('422 CAPA_REJECTED with INVALID_VERIFICATION_TYPE_FOR_USER when Capa holds another user type', async () => {
    const id = uniqueId('link-type');
    await register(service, id, 'BUSINESS');
    // The stored type says INDIVIDUAL (KYC), Capa's user is a BUSINESS: Capa refuses.
    await service.query(`UPDATE signups SET user_type = 'INDIVIDUAL' WHERE external_user_id = $1`, [id]);
    const response = await requestLink(id);
    expect(response.status).toBe(422);
    expect(response.body.details[0].capaCode).toBe('INVALID_VERIFICATION_TYPE_FOR_USER');
  });

  it('422 CAPA_REJECTED with NOT_FOUND_ERROR when Capa does not know the stored userId', async () => {
    const id = uniqueId('link-unknown-at-capa');
    await service.query(
      `INSERT INTO signups (external_user_id, capa_user_id, status, method, fingerprint) VALUES ($1, gen_random_uuid()::text, 'CREATED', 'NONE', 'seeded')`,
      [id],
    );
    const response = await requestLink(id);
    expect(response.status).toBe(422);
    expect(response.body.details[0].capaCode).toBe('NOT_FOUND_ERROR');
  });

  it('retries a transient fault within the deadline and answers 200', async () => {
    const id = uniqueId('link-retry');
    await register(service, id);
    service.simulator.setFaults({ script: [{ kind: 'status', status: 503 }, { kind: 'reset' }] });
    const response = await requestLink(id);
    expect(response.status).toBe(200);
    const attempts = await service.query(
      `SELECT outcome FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 AND operation = 'kyc-link' ORDER BY a.id`,
      [id],
    );
    expect(attempts.rows.map((row) => row.outcome)).toEqual(['transient', 'transient', 'answered']);
  });

  it('503 CAPA_UNAVAILABLE + Retry-After when Capa stays unavailable past the deadline', async () => {
    const id = uniqueId('link-unavailable');
    await register(service, id);
    service.simulator.setFaults({ script: [{ kind: 'status', status: 503, retryAfter: '30' }] });
    const response = await requestLink(id);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(response.body.code).toBe('CAPA_UNAVAILABLE');
  });

  it('counts link requests by kind and outcome, and signups by KYC status, in /metrics', async () => {
    // Earlier tests of this app raised these already: what counts is how far this test moves them. The counters'
    // baseline is read from the registry (a /metrics scrape would also cache the KYC counts for 10 s), the gauges'
    // from the database.
    const registry = service.app.get(AppMetrics).registry;
    const linkCounts = await registry.getSingleMetricAsString('verification_link_requests_total');
    const kycCounts = async () =>
      Object.fromEntries(
        (await service.query<{ status: string; n: number }>('SELECT kyc_status::text AS status, count(*)::int AS n FROM signups GROUP BY 1')).rows.map((row) => [row.status, row.n]),
      );
    const kycBefore = await kycCounts();
    const id = uniqueId('link-metrics');
    await register(service, id, 'BUSINESS');
    await requestLink(id, { country: 'FR' });
    const rejected = uniqueId('link-metrics-rejected');
    await register(service, rejected);
    await service.query(`UPDATE signups SET user_type = 'INDIVIDUAL' WHERE external_user_id = $1`, [id]);
    await requestLink(id, { country: 'FR' });
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: rejected });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(seriesValue(metrics, 'verification_link_requests_total{kind="KYB",outcome="answered"}')).toBe(
      seriesValue(linkCounts, 'verification_link_requests_total{kind="KYB",outcome="answered"}') + 1,
    );
    expect(seriesValue(metrics, 'verification_link_requests_total{kind="KYC",outcome="rejected"}')).toBe(
      seriesValue(linkCounts, 'verification_link_requests_total{kind="KYC",outcome="rejected"}') + 1,
    );
    // Two new signups: one VERIFIED by the webhook, one still NOT_STARTED.
    expect(seriesValue(metrics, 'signups_kyc{status="VERIFIED"}')).toBe((kycBefore.VERIFIED ?? 0) + 1);
    expect(seriesValue(metrics, 'signups_kyc{status="NOT_STARTED"}')).toBe((kycBefore.NOT_STARTED ?? 0) + 1);
    expect(metrics).not.toContain('verify.sandbox');
  });

  it('502 CAPA_MISCONFIGURED when Capa answers 401', async () => {
    const id = uniqueId('link-misconfigured');
    await register(service, id);
    service.simulator.setFaults({ script: Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 401 })) });
    const response = await requestLink(id);
    expect(response.status).toBe(502);
    expect(response.body.code).toBe('CAPA_MISCONFIGURED');
  });

  it('every answer of the route carries Cache-Control: no-store (the link is a credential), errors included', async () => {
    const id = uniqueId('link-no-store');
    await register(service, id);
    const answers = [
      await requestLink(id),
      await requestLink(id, { country: 'BR' }),
      await requestLink(id, '{"country":', { 'content-type': 'application/json' }),
      await requestLink(id, undefined, { authorization: '' }),
      await requestLink(uniqueId('link-no-store-unknown')),
    ];
    service.simulator.setFaults({ script: Array.from({ length: 50 }, () => ({ kind: 'status' as const, status: 503 })) });
    answers.push(await requestLink(id));
    expect(answers.map((answer) => answer.status)).toEqual([200, 400, 400, 401, 404, 503]);
    for (const answer of answers) expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answers[0].body.link).toMatch(/^https:\/\//);
    // Other routes keep their own caching rules.
    expect((await service.call('GET', usersPath(id))).headers.get('cache-control')).not.toBe('no-store');
  });
});

/** The service as a process logging everything it logs (trace), to read its output for the link. */
describe('verification links are never logged', () => {
  let database: TestDatabase;
  let simulator: CapaSimulator;
  let process_: ServiceProcess;

  beforeAll(async () => {
    database = await createTestDatabase('capa_link_logs');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    process_ = await ServiceProcess.start({
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      CAPA_BASE_URL: await simulator.start(),
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: INBOUND_TOKEN,
      ADMIN_API_KEY: ADMIN_TOKEN,
      CAPA_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'trace',
    });
  }, 60_000);

  afterAll(async () => {
    await process_?.stop();
    await simulator?.stop();
    await database?.drop();
  });

  it('on the success paths (first try, after a retried fault, KYB) no log line holds a link', async () => {
    const link = (externalUserId: string, body: unknown = { country: 'MX' }) => request(process_.url, 'POST', linkPath(externalUserId), body);
    const individual = uniqueId('link-log');
    const business = uniqueId('link-log-kyb');
    expect((await request(process_.url, 'POST', '/v1/users', { externalUserId: individual, userType: 'INDIVIDUAL' })).status).toBe(201);
    expect((await request(process_.url, 'POST', '/v1/users', { externalUserId: business, userType: 'BUSINESS' })).status).toBe(201);
    const answers = [await link(individual)];
    simulator.setFaults({ script: [{ kind: 'status', status: 503 }, { kind: 'reset' }] });
    answers.push(await link(individual, { country: 'MX', redirectUri: 'myapp://kyc-done' }));
    answers.push(await link(business, { country: 'DE' }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const links = answers.map((answer) => answer.body.link as string);
    expect(simulator.verification.issuedLinks).toEqual(expect.arrayContaining(links));
    // The service did log these requests (the request lines, the Capa calls): only the link is missing from them.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const logs = process_.logs;
    expect(logs).toContain('verification-link');
    for (const issued of links) {
      expect(logs).not.toContain(issued);
      expect(logs).not.toContain(new URL(issued).pathname);
    }
    expect(logs).not.toContain('verify.sandbox');
  }, 60_000);
});

describe('verification links and the circuit breaker in front of Capa', () => {
  const service = useTestApp({ env: { ...WEBHOOK_ENV, CAPA_CIRCUIT_MIN_CALLS: '3', CAPA_CIRCUIT_FAILURE_RATE: '0.5', CAPA_CIRCUIT_HALF_OPEN_MS: '60000' } });

  it('failing link calls open the shared circuit: the next link request is 503 without reaching Capa', async () => {
    const id = uniqueId('link-circuit');
    await register(service, id);
    service.simulator.setFaults({ script: Array.from({ length: 10 }, () => ({ kind: 'status' as const, status: 500 })) });
    expect((await service.call('POST', `${usersPath(id)}/verification-link`, { country: 'MX' })).status).toBe(503);
    const before = service.simulator.stats().requests;
    const response = await service.call('POST', `${usersPath(id)}/verification-link`, { country: 'MX' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(service.simulator.stats().requests).toBe(before);
    expect((await service.call('GET', '/admin/stats', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).body.capa.circuit).toBe('open');
  });
});
