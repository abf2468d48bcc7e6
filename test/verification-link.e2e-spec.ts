import { ADMIN_TOKEN, useTestApp, uniqueId, usersPath } from './support/test-app';
import { WEBHOOK_ENV, deliver, kycOf, register } from './support/webhooks';

const linkPath = (externalUserId: string) => `${usersPath(externalUserId)}/verification-link`;

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
    expect(JSON.stringify(response.body)).not.toContain('https://');
  });

  it('counts link requests by kind and outcome, and signups by KYC status, in /metrics', async () => {
    const id = uniqueId('link-metrics');
    await register(service, id, 'BUSINESS');
    await requestLink(id, { country: 'FR' });
    const rejected = uniqueId('link-metrics-rejected');
    await register(service, rejected);
    await service.query(`UPDATE signups SET user_type = 'INDIVIDUAL' WHERE external_user_id = $1`, [id]);
    await requestLink(id, { country: 'FR' });
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: rejected });
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^verification_link_requests_total\{kind="KYB",outcome="answered"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^verification_link_requests_total\{kind="KYC",outcome="rejected"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^signups_kyc\{status="VERIFIED"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^signups_kyc\{status="NOT_STARTED"\} [1-9]\d*$/m);
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
