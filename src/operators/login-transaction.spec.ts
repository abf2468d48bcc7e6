import { LOGIN_TTL_S, resumeLogin, startLogin } from './login-transaction';

describe('login transaction (bound to the browser by its cookie)', () => {
  it('the cookie yields the same state, nonce and verifier for 10 minutes, none after', () => {
    const { cookie, secrets } = startLogin(1_000_000);
    expect(resumeLogin(cookie, 1_000_000 + LOGIN_TTL_S)).toEqual(secrets);
    expect(resumeLogin(cookie, 1_000_000 + LOGIN_TTL_S + 1)).toBeNull();
    expect(new Set([secrets.state, secrets.nonce, secrets.codeVerifier]).size).toBe(3);
    // A PKCE verifier is 43..128 characters of the unreserved set.
    expect(secrets.codeVerifier).toMatch(/^[\w-]{43,128}$/);
  });

  it('every login has its own secrets; an altered or malformed cookie has none that match', () => {
    const first = startLogin(1_000_000);
    const second = startLogin(1_000_000);
    expect(second.secrets.state).not.toBe(first.secrets.state);
    const [issued, secret] = first.cookie.split('.');
    expect(resumeLogin(`${Number(issued) + 5}.${secret}`, 1_000_010)?.state).not.toBe(first.secrets.state);
    for (const bad of [undefined, '', 'garbage', `${issued}.short`, `x.${secret}`]) expect(resumeLogin(bad, 1_000_010)).toBeNull();
  });
});
