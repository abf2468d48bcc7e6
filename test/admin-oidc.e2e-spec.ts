import { generateKeyPair } from 'jose';
import { ADMIN_TOKEN, TestApp, TestResponse, freePort, startTestApp, uniqueId } from './support/test-app';
import { OidcTestProvider } from './support/oidc-provider';
import { browserSignIn, cookieFrom, signedIn } from './support/browser-session';

const CLIENT_ID = 'onboarding-page';
const CLIENT_SECRET = 'a-confidential-client-secret';
const OPERATOR = { sub: 'op-1', name: 'Olivia Operator', email: 'olivia@example.com', roles: ['onboarding:operator'] };
const VIEWER = { sub: 'view-1', name: 'Victor Viewer', email: 'victor@example.com', roles: ['onboarding:viewer', 'unrelated'] };

/** Operators sign in at a real (in-test) OpenID Provider; sessions, roles, CSRF and sign-out, all over real HTTP. */
describe('operator sign-in with OpenID Connect', () => {
  const idp = new OidcTestProvider({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, rolesClaim: 'realm_access.roles' });
  let service: TestApp;

  beforeAll(async () => {
    const issuer = await idp.start();
    const port = await freePort();
    service = await startTestApp({
      port,
      env: {
        ADMIN_OIDC_ISSUER: issuer,
        ADMIN_OIDC_CLIENT_ID: CLIENT_ID,
        ADMIN_OIDC_CLIENT_SECRET: CLIENT_SECRET,
        ADMIN_PUBLIC_URL: `http://127.0.0.1:${port}`,
        ADMIN_OIDC_ROLES_CLAIM: 'realm_access.roles',
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    await idp.stop();
  });

  const withCookie = (cookie: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<TestResponse> =>
    service.call(method, path, body, { authorization: '', cookie, ...headers });
  const auditRows = async (query: string) => (await service.call('GET', `/admin/audit?${query}`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).body.items;
  const createdSignup = async () => {
    const externalUserId = uniqueId('oidc');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    return externalUserId;
  };
  const retryPath = (externalUserId: string) => `/admin/users/${encodeURIComponent(externalUserId)}/retry`;

  it('GET /admin/login sends the browser to the IdP with PKCE S256, state and nonce, bound to it by an HttpOnly cookie', async () => {
    const login = await fetch(`${service.url}/admin/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const location = new URL(login.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${idp.issuer}/authorize`);
    const query = Object.fromEntries(location.searchParams);
    expect(query).toEqual({
      response_type: 'code',
      client_id: CLIENT_ID,
      redirect_uri: `${service.url}/admin/callback`,
      scope: 'openid profile email',
      state: expect.stringMatching(/^[\w-]{43}$/),
      nonce: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      code_challenge_method: 'S256',
    });
    const cookie = cookieFrom(login, 'capa_admin_login')!.line;
    expect(cookie).toMatch(/; Path=\/admin\/callback; Max-Age=600; HttpOnly; SameSite=Lax$/);
    expect(login.headers.get('cache-control')).toBe('no-store');
  });

  it('signs an operator in: 303 to the page with a session cookie (HttpOnly, Lax, /admin; not Secure on loopback http), only its hash stored, audited', async () => {
    const { callback } = await browserSignIn(service.url, idp, OPERATOR);
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/admin/ui');
    const session = cookieFrom(callback, 'capa_admin_session')!;
    expect(session.line).toMatch(/^capa_admin_session=[\w-]{43}; Path=\/admin; Max-Age=28800; HttpOnly; SameSite=Lax$/);
    expect(cookieFrom(callback, 'capa_admin_login')!.line).toContain('Max-Age=0');
    const sessionId = session.pair.split('=')[1];
    const stored = await service.query("SELECT encode(id_hash, 'hex') AS h, sub, name, email, roles FROM admin_sessions WHERE sub = 'op-1'");
    expect(stored.rows).toEqual([{ h: expect.any(String), sub: 'op-1', name: 'Olivia Operator', email: 'olivia@example.com', roles: ['onboarding:operator'] }]);
    expect(JSON.stringify(stored.rows)).not.toContain(sessionId);
    expect(stored.rows[0].h).not.toContain(Buffer.from(sessionId, 'base64url').toString('hex'));

    const me = await withCookie(session.pair, 'GET', '/admin/me');
    expect(me.body).toEqual({ sub: 'op-1', name: 'Olivia Operator', email: 'olivia@example.com', roles: ['onboarding:operator'], via: 'oidc', csrfToken: expect.stringMatching(/^[\w-]{43}$/) });
    expect(await auditRows('actor=op-1&action=session.sign_in')).toEqual([
      expect.objectContaining({ actor: { sub: 'op-1', name: 'Olivia Operator', email: 'olivia@example.com', via: 'oidc' }, target: null, outcome: 'succeeded' }),
    ]);
  });

  it('an operator writes with the CSRF token; without it, with a wrong one or from another Origin: 403 CSRF_FAILED, nothing done, audited as failed', async () => {
    const operator = await signedIn(service.url, idp, { ...OPERATOR, sub: 'op-csrf' });
    const externalUserId = await createdSignup();
    const calls = service.simulator.stats().requests;
    for (const headers of [{}, { 'x-csrf-token': 'wrong' }, { 'x-csrf-token': operator.csrfToken, origin: 'https://evil.example' }] as Array<Record<string, string>>) {
      const refused = await withCookie(operator.cookie, 'POST', retryPath(externalUserId), headers);
      expect([refused.status, refused.body.code]).toEqual([403, 'CSRF_FAILED']);
    }
    expect(service.simulator.stats().requests).toBe(calls);
    const done = await withCookie(operator.cookie, 'POST', retryPath(externalUserId), { 'x-csrf-token': operator.csrfToken, origin: service.url });
    expect(done.status).toBe(200);
    const rows = await auditRows(`target=${encodeURIComponent(`user:${externalUserId}`)}`);
    expect(rows.map((row: any) => [row.actor.sub, row.actor.via, row.outcome, row.details])).toEqual([
      ['op-csrf', 'oidc', 'succeeded', {}],
      ['op-csrf', 'oidc', 'failed', { statusCode: 403, code: 'CSRF_FAILED' }],
      ['op-csrf', 'oidc', 'failed', { statusCode: 403, code: 'CSRF_FAILED' }],
      ['op-csrf', 'oidc', 'failed', { statusCode: 403, code: 'CSRF_FAILED' }],
    ]);
    // Bearer-authenticated writes need no CSRF proof.
    expect((await service.call('POST', retryPath(externalUserId), undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('a viewer reads but may not write (403, audited as denied); no CORS headers on /admin', async () => {
    const viewer = await signedIn(service.url, idp, VIEWER);
    const list = await withCookie(viewer.cookie, 'GET', '/admin/users', { origin: 'https://evil.example' });
    expect(list.status).toBe(200);
    expect(list.headers.get('access-control-allow-origin')).toBeNull();
    expect((await withCookie(viewer.cookie, 'GET', '/admin/audit')).status).toBe(200);
    const externalUserId = await createdSignup();
    const refused = await withCookie(viewer.cookie, 'POST', retryPath(externalUserId), { 'x-csrf-token': viewer.csrfToken });
    expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
    expect(await auditRows(`target=${encodeURIComponent(`user:${externalUserId}`)}`)).toEqual([
      expect.objectContaining({ actor: { sub: 'view-1', name: 'Victor Viewer', email: 'victor@example.com', via: 'oidc' }, action: 'user.retry', outcome: 'denied' }),
    ]);
  });

  it('an account without an onboarding role gets 403 FORBIDDEN at the callback, no session, and the refusal is audited', async () => {
    const { callback } = await browserSignIn(service.url, idp, { sub: 'stranger', name: 'Sam Stranger', roles: ['other-app:admin'] });
    expect(callback.status).toBe(403);
    expect(((await callback.json()) as { code: string }).code).toBe('FORBIDDEN');
    expect(cookieFrom(callback, 'capa_admin_session')).toBeUndefined();
    expect((await service.query("SELECT count(*)::int AS n FROM admin_sessions WHERE sub = 'stranger'")).rows[0].n).toBe(0);
    expect(await auditRows('actor=stranger')).toEqual([expect.objectContaining({ action: 'session.sign_in', outcome: 'denied' })]);
  });

  it('refuses callbacks that are not the end of this browser’s login with 400 LOGIN_FAILED, creating no session', async () => {
    const refusals: Array<[string, Response]> = [];
    idp.nextUser = OPERATOR;
    const login = await fetch(`${service.url}/admin/login`, { redirect: 'manual' });
    const returned = (await fetch(login.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!;
    refusals.push(['no login cookie', await fetch(returned, { redirect: 'manual' })]);
    const otherBrowser = cookieFrom(await fetch(`${service.url}/admin/login`, { redirect: 'manual' }), 'capa_admin_login')!.pair;
    refusals.push(["another browser's login", await fetch(returned, { redirect: 'manual', headers: { cookie: otherBrowser } })]);
    const mine = cookieFrom(login, 'capa_admin_login')!.pair;
    const tampered = new URL(returned);
    tampered.searchParams.set('state', 'x'.repeat(43));
    refusals.push(['a changed state', await fetch(tampered, { redirect: 'manual', headers: { cookie: mine } })]);
    refusals.push(['the code used twice (first use)', await fetch(returned, { redirect: 'manual', headers: { cookie: mine } })]);
    refusals.push(['the code used twice', await fetch(returned, { redirect: 'manual', headers: { cookie: mine } })]);
    idp.authorizeError = 'access_denied';
    try {
      const { callback } = await browserSignIn(service.url, idp, OPERATOR);
      refusals.push(['an error from the IdP', callback]);
    } finally {
      idp.authorizeError = undefined;
    }
    const badIdTokens: Array<[string, Record<string, unknown>]> = [
      ['an ID token with another nonce', { nonce: 'not-the-one-sent' }],
      ['an ID token for another client', { aud: 'another-client' }],
      ['an ID token from another issuer', { iss: 'https://evil.example' }],
      ['an expired ID token', { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }],
    ];
    for (const [name, override] of badIdTokens) {
      idp.idTokenOverride = override;
      try {
        refusals.push([name, (await browserSignIn(service.url, idp, OPERATOR)).callback]);
      } finally {
        idp.idTokenOverride = undefined;
      }
    }
    idp.idTokenKey = (await generateKeyPair('RS256')).privateKey;
    try {
      refusals.push(['an ID token signed by a stranger', (await browserSignIn(service.url, idp, OPERATOR)).callback]);
    } finally {
      idp.idTokenKey = undefined;
    }
    const outcomes = await Promise.all(refusals.map(async ([name, response]) => [name, response.status, response.status === 303 ? null : ((await response.json()) as { code: string }).code]));
    expect(outcomes).toEqual([
      ['no login cookie', 400, 'LOGIN_FAILED'],
      ["another browser's login", 400, 'LOGIN_FAILED'],
      ['a changed state', 400, 'LOGIN_FAILED'],
      ['the code used twice (first use)', 303, null],
      ['the code used twice', 400, 'LOGIN_FAILED'],
      ['an error from the IdP', 400, 'LOGIN_FAILED'],
      ...badIdTokens.map(([name]) => [name, 400, 'LOGIN_FAILED']),
      ['an ID token signed by a stranger', 400, 'LOGIN_FAILED'],
    ]);
    for (const [, response] of refusals.filter(([name]) => name !== 'the code used twice (first use)')) expect(cookieFrom(response, 'capa_admin_session')).toBeUndefined();
  });

  it('sign-out deletes the session (204, cookie cleared, audited); the old cookie is then 401 everywhere', async () => {
    const operator = await signedIn(service.url, idp, { ...OPERATOR, sub: 'op-out' });
    expect((await withCookie(operator.cookie, 'POST', '/admin/logout')).body.code).toBe('CSRF_FAILED');
    const out = await withCookie(operator.cookie, 'POST', '/admin/logout', { 'x-csrf-token': operator.csrfToken });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()).toEqual([expect.stringMatching(/^capa_admin_session=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Lax$/)]);
    for (const [method, path] of [['GET', '/admin/me'], ['GET', '/admin/users'], ['POST', '/admin/logout']]) {
      const after = await withCookie(operator.cookie, method, path, { 'x-csrf-token': operator.csrfToken });
      expect([path, after.status, after.body.code]).toEqual([path, 401, 'UNAUTHORIZED']);
    }
    expect((await auditRows('actor=op-out')).map((row: any) => [row.action, row.outcome])).toEqual([
      ['session.sign_out', 'succeeded'],
      ['session.sign_in', 'succeeded'],
    ]);
  });

  it('a session ends after an hour idle or eight hours in all', async () => {
    const idle = await signedIn(service.url, idp, { ...OPERATOR, sub: 'op-idle' });
    const old = await signedIn(service.url, idp, { ...OPERATOR, sub: 'op-old' });
    expect((await withCookie(idle.cookie, 'GET', '/admin/me')).status).toBe(200);
    await service.query("UPDATE admin_sessions SET last_seen_at = now() - interval '61 minutes' WHERE sub = 'op-idle'");
    await service.query("UPDATE admin_sessions SET expires_at = now() - interval '1 second' WHERE sub = 'op-old'");
    expect((await withCookie(idle.cookie, 'GET', '/admin/me')).status).toBe(401);
    expect((await withCookie(old.cookie, 'GET', '/admin/me')).status).toBe(401);
  });

  it('GET /admin/me names the API key and JWT callers too (no csrfToken for them)', async () => {
    const me = await service.call('GET', '/admin/me', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(me.body).toEqual({ sub: 'api-key', name: null, email: null, roles: ['onboarding:viewer', 'onboarding:operator'], via: 'api-key' });
  });
});

describe('operator sign-in when the identity provider cannot be reached', () => {
  let service: TestApp;
  beforeAll(async () => {
    const closedPort = await freePort();
    service = await startTestApp({ env: { ADMIN_OIDC_ISSUER: `http://127.0.0.1:${closedPort}/realms/gone`, ADMIN_OIDC_CLIENT_ID: CLIENT_ID, ADMIN_PUBLIC_URL: 'http://localhost:1' } });
  });
  afterAll(async () => service?.close());

  it('GET /admin/login answers 503 OIDC_UNAVAILABLE; the service is ready and the API key still works', async () => {
    const login = await fetch(`${service.url}/admin/login`, { redirect: 'manual' });
    expect(login.status).toBe(503);
    expect(await login.json()).toEqual({ statusCode: 503, code: 'OIDC_UNAVAILABLE', message: expect.any(String) });
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    expect((await service.call('GET', '/admin/users', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });
});
