'use strict';
// Who is using the page: a sign-in session (cookie, set by /admin/callback; writes carry its CSRF token) or the
// break-glass admin token typed in (kept in sessionStorage). app.js asks here for each request's headers.
window.operatorAuth = (() => {
  const TOKEN_KEY = 'capa-onboarding.admin-token';
  const OPERATOR_ROLE = 'onboarding:operator';
  let operator = null;

  const typedToken = () => sessionStorage.getItem(TOKEN_KEY);

  /** Headers for an admin API call: the typed token, or (cookie session) the CSRF token on writes. */
  function headers(method) {
    const token = typedToken();
    if (token) return { authorization: `Bearer ${token}` };
    const write = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    return write && operator?.csrfToken ? { 'x-csrf-token': operator.csrfToken } : {};
  }

  /** GET /admin/me with whatever credential this browser has; null when it has none that works. */
  async function whoAmI() {
    const response = await fetch('/admin/me', { headers: headers('GET') });
    operator = response.ok ? await response.json() : null;
    return operator;
  }

  /** What the signed-out page offers: operator sign-in (OIDC) and/or the token form. */
  async function signInOptions() {
    const response = await fetch('/admin/ui/sign-in.json');
    return response.ok ? response.json() : { oidc: false, apiKey: true };
  }

  function useToken(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  }

  /** Ends the session on the server (cookie sessions) and forgets the typed token. */
  async function signOut() {
    const wasSession = operator?.via === 'oidc' && !typedToken();
    const csrf = headers('POST');
    sessionStorage.removeItem(TOKEN_KEY);
    operator = null;
    if (wasSession) await fetch('/admin/logout', { method: 'POST', headers: csrf });
  }

  /** Forgets everything locally (the credential was refused). */
  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    operator = null;
  }

  const canWrite = () => Boolean(operator?.roles?.includes(OPERATOR_ROLE));
  const current = () => operator;

  return { headers, whoAmI, signInOptions, useToken, signOut, forget, canWrite, current };
})();
