import { randomBytes } from 'node:crypto';
import { TestApp, TestResponse, freePort, startTestApp, uniqueId } from './support/test-app';
import { CertifiedOidcProvider } from './support/certified-oidc-provider';
import { cookieFrom } from './support/browser-session';

const CLIENT = { id: 'onboarding-page', secret: randomBytes(24).toString('base64url') };
const SCRIPTS = { id: 'onboarding-scripts', secret: randomBytes(24).toString('base64url') };
const RESOURCE = 'urn:capa-onboarding:admin';
const AUDIENCE = 'capa-onboarding-admin';
const OPERATOR = { sub: 'certified-op', name: 'Cora Certified', email: 'cora@example.com', roles: ['onboarding:operator'] };

/**
 * Sign-in, JWT bearer tokens and sign-out against the certified OpenID Provider (the `oidc-provider` package, run as
 * a child process), over real HTTP. The hand-written OidcTestProvider stays for the fault cases (admin-oidc*.e2e-spec).
 * The roles claim is the service's default (`roles`). oidc-provider keeps scope claims out of the ID token of a code
 * flow (conformIdTokenClaims), so name, email and roles reach the service through userinfo.
 */
describe('operator sign-in against the certified OpenID Provider (oidc-provider)', () => {
  let idp: CertifiedOidcProvider | undefined;
  let service: TestApp;
  let discovery: Record<string, string>;

  beforeAll(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await CertifiedOidcProvider.start({
      client: { ...CLIENT, redirectUri: `${publicUrl}/admin/callback` },
      scripts: SCRIPTS,
      resource: RESOURCE,
      audience: AUDIENCE,
      account: OPERATOR,
    });
    discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    service = await startTestApp({
      port,
      env: {
        ADMIN_OIDC_ISSUER: idp.issuer,
        ADMIN_OIDC_CLIENT_ID: CLIENT.id,
        ADMIN_OIDC_CLIENT_SECRET: CLIENT.secret,
        ADMIN_PUBLIC_URL: publicUrl,
        ADMIN_OIDC_AUDIENCE: AUDIENCE,
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    await idp?.stop();
  });

  const withCookie = (cookie: string, method: string, path: string, headers: Record<string, string> = {}): Promise<TestResponse> =>
    service.call(method, path, undefined, { authorization: '', cookie, ...headers });

  /**
   * A browser's sign-in: /admin/login, then the provider's redirects (authorization endpoint, its interaction, which
   * signs OPERATOR in and grants consent, the authorization endpoint again) with the provider's cookies carried, then
   * /admin/callback with the login cookie. Answers the callback and the provider paths visited.
   */
  async function browserSignIn(): Promise<{ callback: Response; providerPaths: string[] }> {
    const login = await fetch(`${service.url}/admin/login`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    const loginCookie = cookieFrom(login, 'capa_admin_login')!.pair;
    const authorize = new URL(login.headers.get('location')!);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(discovery.authorization_endpoint);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    const jar = new Map<string, string>();
    const providerPaths: string[] = [];
    let next = authorize;
    while (next.origin === idp!.issuer) {
      if (providerPaths.length === 5) throw new Error(`the provider kept redirecting: ${providerPaths.join(' ')}`);
      providerPaths.push(next.pathname);
      const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const hop = await fetch(next, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      expect([next.pathname, hop.status]).toEqual([next.pathname, 303]);
      for (const line of hop.headers.getSetCookie()) {
        const pair = line.split(';')[0];
        jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
      }
      next = new URL(hop.headers.get('location')!, next);
    }
    const callback = await fetch(next, { redirect: 'manual', headers: { cookie: loginCookie } });
    return { callback, providerPaths };
  }

  async function signedIn(): Promise<{ cookie: string; csrfToken: string }> {
    const { callback } = await browserSignIn();
    expect(callback.status).toBe(303);
    const cookie = cookieFrom(callback, 'capa_admin_session')!.pair;
    const me = await withCookie(cookie, 'GET', '/admin/me');
    expect(me.status).toBe(200);
    return { cookie, csrfToken: me.body.csrfToken };
  }

  it('signs an operator in through the provider (code + PKCE, its login and consent), who then writes with the CSRF token, audited under their name', async () => {
    const { callback, providerPaths } = await browserSignIn();
    expect(providerPaths).toEqual(['/auth', expect.stringMatching(/^\/interaction\/[\w-]+$/), expect.stringMatching(/^\/auth\/[\w-]+$/)]);
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe('/admin/ui');
    const session = cookieFrom(callback, 'capa_admin_session')!;
    expect(session.line).toMatch(/^capa_admin_session=[\w-]{43}; Path=\/admin; Max-Age=28800; HttpOnly; SameSite=Lax$/);

    const me = await withCookie(session.pair, 'GET', '/admin/me');
    expect(me.body).toEqual({ ...OPERATOR, via: 'oidc', csrfToken: expect.stringMatching(/^[\w-]{43}$/) });

    const externalUserId = uniqueId('certified');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const retry = await withCookie(session.pair, 'POST', `/admin/users/${encodeURIComponent(externalUserId)}/retry`, { 'x-csrf-token': me.body.csrfToken });
    expect(retry.status).toBe(200);
    const audit = await withCookie(session.pair, 'GET', `/admin/audit?target=${encodeURIComponent(`user:${externalUserId}`)}`);
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([
      expect.objectContaining({ actor: { sub: OPERATOR.sub, name: OPERATOR.name, email: OPERATOR.email, via: 'oidc' }, action: 'user.retry', outcome: 'succeeded' }),
    ]);
  });

  it("accepts the provider's JWT access token (client_credentials for the admin API's audience) as a bearer token; one character changed: 401", async () => {
    const issued = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${SCRIPTS.id}:${SCRIPTS.secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope: 'admin' }),
    });
    expect(issued.status).toBe(200);
    const token = ((await issued.json()) as { access_token: string }).access_token;
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({ iss: idp!.issuer, aud: AUDIENCE, sub: SCRIPTS.id, roles: OPERATOR.roles });

    const bearer = (value: string, path = '/admin/audit') => service.call('GET', path, undefined, { authorization: `Bearer ${value}` });
    const audit = await bearer(token);
    expect(audit.status).toBe(200);
    expect(Array.isArray(audit.body.items)).toBe(true);
    expect((await bearer(token, '/admin/me')).body).toEqual({ sub: SCRIPTS.id, name: null, email: null, roles: OPERATOR.roles, via: 'jwt' });

    // One character in the middle of the signature (the last one may only carry base64url padding bits).
    const at = Math.floor(signature.length / 2);
    const tampered = `${header}.${payload}.${signature.slice(0, at)}${signature[at] === 'A' ? 'B' : 'A'}${signature.slice(at + 1)}`;
    const refused = await bearer(tampered);
    expect([refused.status, refused.body.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('sign-out (POST /admin/logout with the CSRF token) ends the session: the old cookie is then 401', async () => {
    const operator = await signedIn();
    const out = await withCookie(operator.cookie, 'POST', '/admin/logout', { 'x-csrf-token': operator.csrfToken });
    expect(out.status).toBe(204);
    const after = await withCookie(operator.cookie, 'GET', '/admin/me');
    expect([after.status, after.body.code]).toEqual([401, 'UNAUTHORIZED']);
  });
});
