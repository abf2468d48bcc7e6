import { createHmac, randomBytes } from 'node:crypto';

/** How long a started sign-in may take at the identity provider. */
export const LOGIN_TTL_S = 600;

/** The secrets of one sign-in: sent to the IdP (state, nonce, the verifier's challenge) and checked on return. */
export interface LoginSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * A sign-in is bound to the browser that started it by an HttpOnly cookie holding a 256-bit random secret and its
 * start time; state, nonce and PKCE verifier are derived from both, so nothing about the login is stored on the server
 * and a cookie from another browser (or altered, or older than 10 minutes) yields no valid state.
 */
export function startLogin(nowS = Math.floor(Date.now() / 1000)): { cookie: string; secrets: LoginSecrets } {
  const secret = randomBytes(32).toString('base64url');
  const cookie = `${nowS}.${secret}`;
  return { cookie, secrets: derive(cookie) };
}

/** The secrets of the login this cookie stands for, or null (missing, malformed, expired). */
export function resumeLogin(cookie: string | undefined, nowS = Math.floor(Date.now() / 1000)): LoginSecrets | null {
  const match = /^(\d{1,12})\.([\w-]{43})$/.exec(cookie ?? '');
  if (match === null) return null;
  const age = nowS - Number(match[1]);
  if (age < 0 || age > LOGIN_TTL_S) return null;
  return derive(cookie!);
}

function derive(cookie: string): LoginSecrets {
  const part = (label: string) => createHmac('sha256', cookie).update(label).digest('base64url');
  return { state: part('state'), nonce: part('nonce'), codeVerifier: part('pkce-verifier') };
}
