import { generateKeyPair, SignJWT } from 'jose';
import { ADMIN_TOKEN, INBOUND_TOKEN, TestApp, TestResponse, startTestApp, uniqueId } from './support/test-app';
import { OidcTestProvider } from './support/oidc-provider';

const AUDIENCE = 'capa-onboarding-admin';
const CLIENT_ID = 'onboarding-page';

/** Scripts on the admin API with the issuer's JWT access tokens: which tokens pass, which are 401, and the roles. */
describe('admin API with JWT bearer tokens', () => {
  const idp = new OidcTestProvider({ clientId: CLIENT_ID });
  let service: TestApp;

  beforeAll(async () => {
    const issuer = await idp.start();
    service = await startTestApp({
      env: { ADMIN_OIDC_ISSUER: issuer, ADMIN_OIDC_CLIENT_ID: CLIENT_ID, ADMIN_PUBLIC_URL: 'http://127.0.0.1:1', ADMIN_OIDC_AUDIENCE: AUDIENCE },
    });
  });
  afterAll(async () => {
    await service?.close();
    await idp.stop();
  });

  const withToken = (token: string, method = 'GET', path = '/admin/users', body?: unknown): Promise<TestResponse> =>
    service.call(method, path, body, { authorization: `Bearer ${token}` });
  const viewer = (claims: Record<string, unknown> = {}) => idp.mint({ sub: 'script-viewer', aud: AUDIENCE, roles: ['onboarding:viewer'], ...claims });
  const operator = (claims: Record<string, unknown> = {}) => idp.mint({ sub: 'script-operator', aud: AUDIENCE, roles: 'onboarding:operator other', name: 'Ops Script', ...claims });
  const now = () => Math.floor(Date.now() / 1000);
  const expectUnauthorized = (response: TestResponse) => expect([response.status, response.body?.code]).toEqual([401, 'UNAUTHORIZED']);

  it('a viewer token reads every GET; its write is 403 FORBIDDEN, audited as denied with the token as actor', async () => {
    const token = await viewer({ name: 'Vera Viewer', email: 'vera@example.com' });
    for (const path of ['/admin/users', '/admin/stats', '/admin/audit', '/admin/events', '/admin/imports', '/admin/webhooks']) {
      expect([path, (await withToken(token, 'GET', path)).status]).toEqual([path, 200]);
    }
    const externalUserId = uniqueId('jwt-viewer');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const target = `user:${externalUserId}`;
    const refused = await withToken(token, 'POST', `/admin/users/${encodeURIComponent(externalUserId)}/retry`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ statusCode: 403, code: 'FORBIDDEN', message: expect.any(String) });
    const audit = await withToken(ADMIN_TOKEN, 'GET', `/admin/audit?target=${encodeURIComponent(target)}`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        actor: { sub: 'script-viewer', name: 'Vera Viewer', email: 'vera@example.com', via: 'jwt' },
        action: 'user.retry',
        target,
        outcome: 'denied',
        details: { statusCode: 403, code: 'FORBIDDEN' },
      }),
    ]);
  });

  it('an operator token writes, audited under its sub; a token with neither role is 403 everywhere', async () => {
    const externalUserId = uniqueId('jwt-operator');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const retried = await withToken(await operator(), 'POST', `/admin/users/${encodeURIComponent(externalUserId)}/retry`);
    expect(retried.status).toBe(200);
    const audit = await withToken(ADMIN_TOKEN, 'GET', `/admin/audit?actor=script-operator&target=${encodeURIComponent(`user:${externalUserId}`)}`);
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: { sub: 'script-operator', name: 'Ops Script', email: null, via: 'jwt' }, outcome: 'succeeded' })]);
    const roleless = await idp.mint({ sub: 'nobody', aud: AUDIENCE, roles: ['something:else'] });
    expect((await withToken(roleless, 'GET', '/admin/users')).status).toBe(403);
    expect((await withToken(roleless, 'GET', '/admin/audit')).body.code).toBe('FORBIDDEN');
  });

  it('refuses expired, not yet valid, wrong audience, wrong issuer, unsigned, HMAC, unknown-key, tampered and malformed tokens with 401', async () => {
    const { privateKey: strangerKey } = await generateKeyPair('RS256');
    const good = await operator();
    const [header, payload, signature] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' })).toString('base64url');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    const hmac = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'x', roles: ['onboarding:operator'], exp: now() + 300 })
      .setProtectedHeader({ alg: 'HS256', kid: JSON.parse(Buffer.from(header, 'base64url').toString()).kid })
      .sign(new TextEncoder().encode('a-shared-secret-of-thirty-two-bytes!'));
    const cases: Array<[string, string]> = [
      ['expired beyond the 60 s leeway', await operator({ exp: now() - 120 })],
      ['not valid for another 2 minutes', await operator({ nbf: now() + 120 })],
      ['without exp', await operator({ exp: undefined })],
      ['for another audience', await operator({ aud: 'someone-else' })],
      ['from another issuer', await operator({ iss: `${idp.issuer}/other` })],
      ['from the issuer with a trailing slash', await operator({ iss: `${idp.issuer}/` })],
      ['unsigned (alg none)', unsigned],
      ['HMAC-signed', hmac],
      ['signed by a key the issuer never published', await idp.mint({ sub: 'x', aud: AUDIENCE, roles: ['onboarding:operator'] }, { kid: 'not-published' }, strangerKey)],
      ['signed by a stranger under a published kid', await idp.mint({ sub: 'x', aud: AUDIENCE, roles: ['onboarding:operator'] }, {}, strangerKey)],
      ['tampered', `${header}.${forgedPayload}.${signature}`],
      ['malformed', 'abc.def.ghi'],
    ];
    for (const [name, token] of cases) {
      const response = await withToken(token, 'GET', '/admin/users');
      expect([name, response.status, response.body?.code]).toEqual([name, 401, 'UNAUTHORIZED']);
    }
    // Within the 60 s leeway an expired token still passes.
    expect((await withToken(await operator({ exp: now() - 30 }), 'GET', '/admin/users')).status).toBe(200);
    expectUnauthorized(await withToken(good, 'GET', '/v1/users/x'));
    expectUnauthorized(await withToken(INBOUND_TOKEN, 'GET', '/admin/users'));
    expect((await withToken(ADMIN_TOKEN, 'GET', '/admin/users')).status).toBe(200);
  });

  it('refetches the keys for an unknown kid (rotation) at most once a minute', async () => {
    expect((await withToken(await viewer(), 'GET', '/admin/users')).status).toBe(200);
    const fetches = () => idp.requests.filter((path) => path.endsWith('/jwks')).length;
    const before = fetches();
    await idp.rotateKey('ES256');
    const rotated = await viewer();
    // Within a minute of the last fetch, unknown kids do not make the service hammer the issuer.
    for (let i = 0; i < 3; i += 1) expectUnauthorized(await withToken(rotated, 'GET', '/admin/users'));
    expect(fetches()).toBe(before);
    const realNow = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow + 61_000);
    try {
      expect((await withToken(rotated, 'GET', '/admin/users')).status).toBe(200);
      expect((await withToken(await viewer(), 'GET', '/admin/users')).status).toBe(200);
    } finally {
      clock.mockRestore();
    }
    expect(fetches()).toBe(before + 1);
  });
});
