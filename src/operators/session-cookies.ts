import type { FastifyRequest } from 'fastify';
import type { AdminOidcSettings } from '../config/admin-oidc-settings';

/** The operator's session (its id; only a hash is stored), sent to every /admin route. */
export const SESSION_COOKIE = 'capa_admin_session';
/** The login in progress (its secret derives state, nonce and PKCE verifier), sent only to the callback. */
export const LOGIN_COOKIE = 'capa_admin_login';
export const LOGIN_PATH = '/admin/callback';
export const SESSION_PATH = '/admin';

/** A cookie's value from the request's Cookie header (the first one of that name), or undefined. */
export function cookieOf(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, this path, Secure unless the page is http on a loopback host. */
export function setCookie(settings: AdminOidcSettings, name: string, value: string, path: string, maxAgeS: number): string {
  return [`${name}=${value}`, `Path=${path}`, `Max-Age=${maxAgeS}`, 'HttpOnly', 'SameSite=Lax', ...(settings.secureCookies ? ['Secure'] : [])].join('; ');
}

/** A Set-Cookie value that removes the cookie. */
export function clearCookie(settings: AdminOidcSettings, name: string, path: string): string {
  return setCookie(settings, name, '', path, 0);
}
