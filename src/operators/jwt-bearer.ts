import { Injectable } from '@nestjs/common';
import { UnauthorizedError } from '../common/api-error';
import type { Principal } from '../common/principal';
import { IdentityProvider, joseLibrary } from './identity-provider';
import { OidcUnavailableError } from './operators.errors';
import { rolesFromClaims, stringClaim } from './roles-claim';

/** Asymmetric algorithms only: never `none`, never HMAC (a shared secret would let the client forge tokens). */
export const ACCEPTED_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const CLOCK_TOLERANCE_S = 60;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/** Scripts' `Authorization: Bearer <JWT>` on /admin: the issuer's access tokens, when ADMIN_OIDC_AUDIENCE is set. */
@Injectable()
export class JwtBearer {
  constructor(private readonly idp: IdentityProvider) {}

  /** Whether this token is to be checked as a JWT (JWT bearer tokens configured, and it has a JWT's shape). */
  accepts(token: string): boolean {
    return this.idp.settings?.audience !== undefined && JWT_SHAPE.test(token);
  }

  /** The token's principal, or 401 UNAUTHORIZED (503 OIDC_UNAVAILABLE when the issuer's keys cannot be fetched). */
  async verify(token: string): Promise<Principal> {
    const settings = this.idp.required();
    const keys = await this.idp.signingKeys();
    try {
      const { payload } = await joseLibrary().jwtVerify(token, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      });
      // A client-credentials token may name its client only in client_id or azp.
      const sub = stringClaim(payload, 'sub') ?? stringClaim(payload, 'client_id') ?? stringClaim(payload, 'azp');
      if (sub === null) throw new UnauthorizedError();
      return { sub, name: stringClaim(payload, 'name'), email: stringClaim(payload, 'email'), via: 'jwt', roles: rolesFromClaims(payload, settings.rolesClaim) };
    } catch (error) {
      // The key set could not be fetched (timeout, network, not a key set): the issuer is unreachable, not the token wrong.
      if (keySetUnavailable(error)) throw new OidcUnavailableError();
      throw new UnauthorizedError();
    }
  }
}

function keySetUnavailable(error: unknown): boolean {
  const joseErrors = joseLibrary().errors;
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return true;
  if (error instanceof TypeError) return true;
  return error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/.test(error.message);
}
