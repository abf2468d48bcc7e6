import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { TestDatabase, createTestDatabase } from './support/database';
import { cookieFrom } from './support/browser-session';
import { OidcTestProvider } from './support/oidc-provider';
import { ServiceProcess } from './support/service-process';
import { CAPA_KEY, uniqueId } from './support/test-app';

const CLIENT_ID = 'onboarding-public-client';

/**
 * The compiled service signs an operator in (a public client: PKCE only; roles only in userinfo) and its log, at
 * debug level, holds none of the sign-in's secrets: code, state, nonce, login cookie, session id, CSRF token, tokens.
 */
describe('operator sign-in leaves no secret in the logs (real process)', () => {
  const idp = new OidcTestProvider({ clientId: CLIENT_ID, rolesOnlyInUserinfo: true });
  let database: TestDatabase;
  let simulator: CapaSimulator;
  let service: ServiceProcess;

  beforeAll(async () => {
    const issuer = await idp.start();
    database = await createTestDatabase('capa_oidc_logs');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    service = await ServiceProcess.start({
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      CAPA_BASE_URL: await simulator.start(),
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: 'inbound-token-a',
      ADMIN_OIDC_ISSUER: issuer,
      ADMIN_OIDC_CLIENT_ID: CLIENT_ID,
      // The service's port is picked by ServiceProcess: the callback's origin is rewritten to it below.
      ADMIN_PUBLIC_URL: 'http://localhost:9',
      LOG_LEVEL: 'debug',
    });
  });
  afterAll(async () => {
    await service?.stop();
    await simulator?.stop();
    await database?.drop();
    await idp.stop();
  });

  it('signs in, writes, fails a callback and signs out; the log shows the routes but none of the secrets', async () => {
    const externalUserId = uniqueId('logs');
    expect((await fetch(`${service.url}/v1/users`, { method: 'POST', headers: { authorization: 'Bearer inbound-token-a', 'content-type': 'application/json' }, body: JSON.stringify({ externalUserId }) })).status).toBe(201);
    idp.nextUser = { sub: 'olivia', name: 'Olivia Operator', roles: ['onboarding:operator'] };
    const login = await fetch(`${service.url}/admin/login`, { redirect: 'manual' });
    const authorizeUrl = new URL(login.headers.get('location')!);
    const loginCookie = cookieFrom(login, 'capa_admin_login')!.pair;
    const back = new URL((await fetch(authorizeUrl, { redirect: 'manual' })).headers.get('location')!);
    const callbackUrl = `${service.url}${back.pathname}${back.search}`;
    const callback = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: loginCookie } });
    expect(callback.status).toBe(303);
    const session = cookieFrom(callback, 'capa_admin_session')!.pair;
    const me = (await (await fetch(`${service.url}/admin/me`, { headers: { cookie: session } })).json()) as { csrfToken: string; roles: string[] };
    // The ID token had no roles claim: they came from userinfo.
    expect(me.roles).toEqual(['onboarding:operator']);
    const write = await fetch(`${service.url}/admin/users/${encodeURIComponent(externalUserId)}/kyc/refresh`, { method: 'POST', headers: { cookie: session, 'x-csrf-token': me.csrfToken } });
    expect(write.status).toBe(200);
    expect((await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: loginCookie } })).status).toBe(400);
    expect((await fetch(`${service.url}/admin/logout`, { method: 'POST', headers: { cookie: session, 'x-csrf-token': me.csrfToken } })).status).toBe(204);

    const logs = service.logs;
    expect(logs).toContain('/admin/callback?[not logged]');
    expect(logs).toContain('/admin/login');
    const secrets = {
      code: back.searchParams.get('code')!,
      state: authorizeUrl.searchParams.get('state')!,
      nonce: authorizeUrl.searchParams.get('nonce')!,
      codeChallenge: authorizeUrl.searchParams.get('code_challenge')!,
      loginCookie: loginCookie.split('=')[1],
      sessionId: session.split('=')[1],
      csrfToken: me.csrfToken,
    };
    for (const [name, value] of Object.entries(secrets)) expect([name, logs.includes(value)]).toEqual([name, false]);
  });
});
