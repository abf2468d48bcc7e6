import { Injectable, Logger } from '@nestjs/common';
import type * as oidc from 'openid-client';
import type { Principal } from '../common/principal';
import { IdentityProvider, openidClient } from './identity-provider';
import type { LoginSecrets } from './login-transaction';
import { LoginFailedError, OidcUnavailableError } from './operators.errors';
import { rolesFromClaims, stringClaim } from './roles-claim';

/**
 * The authorization code flow with openid-client: the URL to send the browser to (PKCE S256, state, nonce), and
 * on its return the code redeemed with the verifier and the ID token checked (signature from the JWKS, iss, aud, exp,
 * nonce). Roles come from the ID token, else from userinfo.
 */
@Injectable()
export class SignIn {
  private readonly logger = new Logger('SignIn');

  constructor(private readonly idp: IdentityProvider) {}

  /** The answer for a failed exchange, logged by its kind only (the error may quote the state or the code). */
  private refusal(error: unknown): OidcUnavailableError | LoginFailedError {
    const { code, error: oauthError } = (error ?? {}) as { code?: unknown; error?: unknown };
    this.logger.warn(`Sign-in refused: ${String(code ?? (error as Error)?.name)}${typeof oauthError === 'string' ? ` (${oauthError})` : ''}`);
    return unreachable(error) ? new OidcUnavailableError() : new LoginFailedError();
  }

  async authorizationUrl(secrets: LoginSecrets): Promise<string> {
    const settings = this.idp.required();
    const configuration = await this.idp.configuration();
    const client = openidClient();
    return client
      .buildAuthorizationUrl(configuration, {
        response_type: 'code',
        redirect_uri: settings.redirectUri,
        scope: settings.scopes,
        state: secrets.state,
        nonce: secrets.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(secrets.codeVerifier),
        code_challenge_method: 'S256',
      })
      .toString();
  }

  /** The operator the IdP vouches for, from the callback's query; LOGIN_FAILED for anything wrong with it. */
  async complete(query: string, secrets: LoginSecrets): Promise<Principal> {
    const settings = this.idp.required();
    const configuration = await this.idp.configuration();
    const callbackUrl = new URL(`${settings.redirectUri}?${query}`);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await openidClient().authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: secrets.codeVerifier,
        expectedState: secrets.state,
        expectedNonce: secrets.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw this.refusal(error);
    }
    const claims = tokens.claims();
    if (claims === undefined) throw new LoginFailedError();
    let roles = rolesFromClaims(claims, settings.rolesClaim);
    let profile: Record<string, unknown> = claims;
    if (!hasClaim(claims, settings.rolesClaim)) {
      try {
        profile = { ...(await openidClient().fetchUserInfo(configuration, tokens.access_token, claims.sub)), ...claims };
        roles = rolesFromClaims(profile, settings.rolesClaim);
      } catch (error) {
        throw this.refusal(error);
      }
    }
    return { sub: claims.sub, name: stringClaim(profile, 'name'), email: stringClaim(profile, 'email'), via: 'oidc', roles };
  }
}

function hasClaim(claims: Record<string, unknown>, path: string): boolean {
  if (path in claims) return true;
  let value: unknown = claims;
  for (const key of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value !== undefined;
}

/** The IdP could not be reached (network, timeout), as opposed to answering no. */
function unreachable(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return error instanceof TypeError || cause instanceof TypeError || (error instanceof Error && error.name === 'TimeoutError') || (error as { code?: unknown })?.code === 'OAUTH_TIMEOUT';
}
