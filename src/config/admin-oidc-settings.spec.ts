import { loadAppConfig } from './app-config';
import { bootError, production } from './app-config.fixture';

const issuer = { ADMIN_OIDC_ISSUER: 'https://idp.example.com/realms/partner', ADMIN_OIDC_CLIENT_ID: 'onboarding', ADMIN_PUBLIC_URL: 'https://onboarding.example.com/' };

describe('operator sign-in configuration (ADMIN_OIDC_*)', () => {
  it('reads the settings with their defaults; the redirect URI hangs off the public origin', () => {
    const config = loadAppConfig({ ...production, ...issuer });
    expect(config.adminOidc).toEqual({
      issuer: 'https://idp.example.com/realms/partner',
      clientId: 'onboarding',
      clientSecret: undefined,
      publicOrigin: 'https://onboarding.example.com',
      redirectUri: 'https://onboarding.example.com/admin/callback',
      audience: undefined,
      rolesClaim: 'roles',
      scopes: 'openid profile email',
      sessionTtlS: 28_800,
      sessionIdleS: 3_600,
      secureCookies: true,
    });
  });

  it('cookies are Secure unless the page is plain http on a loopback host', () => {
    const secure = (url: string) => loadAppConfig({ ...production, ...issuer, ADMIN_PUBLIC_URL: url }).adminOidc?.secureCookies;
    expect(secure('http://localhost:3000')).toBe(false);
    expect(secure('http://127.0.0.1:3000')).toBe(false);
    expect(secure('http://[::1]:3000')).toBe(false);
    expect(secure('http://onboarding.internal:3000')).toBe(true);
  });

  it('ADMIN_API_KEY is optional once the issuer is set; outside the sandbox neither stops the boot naming both', () => {
    const { ADMIN_API_KEY: _key, ...withoutKey } = production;
    expect(loadAppConfig({ ...withoutKey, ...issuer }).adminApiKey).toBeUndefined();
    expect(bootError(withoutKey)).toMatch(/ADMIN_API_KEY is required.*ADMIN_OIDC_ISSUER/);
  });

  it.each([
    ['an issuer that is not https', { ADMIN_OIDC_ISSUER: 'http://idp.example.com' }, 'ADMIN_OIDC_ISSUER must be an absolute https:// URL'],
    ['a relative issuer', { ADMIN_OIDC_ISSUER: 'idp.example.com' }, 'ADMIN_OIDC_ISSUER must be an absolute https:// URL'],
    ['the issuer without a client id', { ADMIN_OIDC_CLIENT_ID: undefined }, 'ADMIN_OIDC_CLIENT_ID is required with ADMIN_OIDC_ISSUER'],
    ['the issuer without the public URL', { ADMIN_PUBLIC_URL: undefined }, 'ADMIN_PUBLIC_URL is required with ADMIN_OIDC_ISSUER'],
    ['a bad session TTL', { ADMIN_SESSION_TTL_S: '10' }, 'ADMIN_SESSION_TTL_S'],
    ['scopes without openid', { ADMIN_OIDC_SCOPES: 'profile email' }, 'ADMIN_OIDC_SCOPES must include openid'],
  ])('stops the boot on %s', (_name, change, message) => {
    const env = Object.fromEntries(Object.entries({ ...production, ...issuer, ...change }).filter(([, value]) => value !== undefined)) as Record<string, string>;
    expect(bootError(env)).toContain(message);
  });

  it('accepts an http issuer on a loopback host (a developer machine)', () => {
    expect(loadAppConfig({ ...production, ...issuer, ADMIN_OIDC_ISSUER: 'http://127.0.0.1:8080/realms/dev' }).adminOidc?.issuer).toBe('http://127.0.0.1:8080/realms/dev');
  });
});
