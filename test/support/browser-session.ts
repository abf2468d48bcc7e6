import { expect } from '@jest/globals';
import type { OidcTestProvider, OidcUser } from './oidc-provider';

/** A signed-in browser: its session cookie (name=value) and the CSRF token /admin/me gave it. */
export interface SignedIn {
  cookie: string;
  csrfToken: string;
  setCookie: string;
}

/** The cookie pair (name=value) and the full Set-Cookie line of the named cookie in a response. */
export function cookieFrom(response: Response, name: string): { pair: string; line: string } | undefined {
  const line = response.headers.getSetCookie().find((value) => value.startsWith(`${name}=`));
  return line === undefined ? undefined : { pair: line.split(';')[0], line };
}

/**
 * The whole authorization code flow as a browser does it, cookies carried by hand: /admin/login (302 to the IdP),
 * the IdP's /authorize (302 back with a code), /admin/callback with the login cookie (303 to the page).
 */
export async function browserSignIn(appUrl: string, idp: OidcTestProvider, user: OidcUser): Promise<{ callback: Response; loginCookie: string }> {
  idp.nextUser = user;
  const login = await fetch(`${appUrl}/admin/login`, { redirect: 'manual' });
  expect(login.status).toBe(302);
  const loginCookie = cookieFrom(login, 'capa_admin_login')!.pair;
  const authorize = await fetch(login.headers.get('location')!, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const callback = await fetch(authorize.headers.get('location')!, { redirect: 'manual', headers: { cookie: loginCookie } });
  return { callback, loginCookie };
}

/** Signs in and answers the session cookie and its CSRF token. */
export async function signedIn(appUrl: string, idp: OidcTestProvider, user: OidcUser): Promise<SignedIn> {
  const { callback } = await browserSignIn(appUrl, idp, user);
  expect(callback.status).toBe(303);
  const session = cookieFrom(callback, 'capa_admin_session')!;
  const me = await fetch(`${appUrl}/admin/me`, { headers: { cookie: session.pair } });
  expect(me.status).toBe(200);
  return { cookie: session.pair, csrfToken: ((await me.json()) as { csrfToken: string }).csrfToken, setCookie: session.line };
}
