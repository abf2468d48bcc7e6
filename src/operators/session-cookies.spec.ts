import type { FastifyRequest } from 'fastify';
import type { AdminOidcSettings } from '../config/admin-oidc-settings';
import { clearCookie, cookieOf, setCookie } from './session-cookies';

const settings = (secureCookies: boolean) => ({ secureCookies }) as AdminOidcSettings;

describe('session cookies', () => {
  it('are HttpOnly and SameSite=Lax on their path; Secure unless the page is http on loopback', () => {
    expect(setCookie(settings(true), 'capa_admin_session', 'abc', '/admin', 28800)).toBe('capa_admin_session=abc; Path=/admin; Max-Age=28800; HttpOnly; SameSite=Lax; Secure');
    expect(setCookie(settings(false), 'capa_admin_session', 'abc', '/admin', 28800)).toBe('capa_admin_session=abc; Path=/admin; Max-Age=28800; HttpOnly; SameSite=Lax');
    expect(clearCookie(settings(true), 'capa_admin_login', '/admin/callback')).toBe('capa_admin_login=; Path=/admin/callback; Max-Age=0; HttpOnly; SameSite=Lax; Secure');
  });

  it('reads one cookie from the Cookie header', () => {
    const request = (cookie?: string) => ({ headers: { cookie } }) as unknown as FastifyRequest;
    expect(cookieOf(request('a=1; capa_admin_session=xyz; b=2'), 'capa_admin_session')).toBe('xyz');
    expect(cookieOf(request('xcapa_admin_session=no'), 'capa_admin_session')).toBeUndefined();
    expect(cookieOf(request(), 'capa_admin_session')).toBeUndefined();
  });
});
