import { Injectable, Logger } from '@nestjs/common';
import type { JWTVerifyGetKey } from 'jose';
import type * as oidc from 'openid-client';
import { AppConfig } from '../config/app-config';
import type { AdminOidcSettings } from '../config/admin-oidc-settings';
import { OidcUnavailableError, SignInNotConfiguredError } from './operators.errors';

/**
 * openid-client and jose, loaded on first use: a service without OpenID Connect settings never loads them (~50 ms of
 * its boot and ~20 MB). Node caches the module after the first call.
 */
export const openidClient = (): typeof oidc => require('openid-client') as typeof oidc;
export const joseLibrary = (): typeof import('jose') => require('jose') as typeof import('jose');

/** How long one call to the identity provider may take. */
const IDP_TIMEOUT_S = 5;
/** Keys are refetched for an unknown `kid` (rotation) at most this often. */
export const JWKS_REFETCH_MS = 60_000;

/**
 * The partner's identity provider: its discovery document, fetched on first use and cached (boot and readiness never
 * depend on it; a failed fetch is tried again by the next request), and its signing keys.
 */
@Injectable()
export class IdentityProvider {
  readonly settings: AdminOidcSettings | undefined;
  private discovered: Promise<oidc.Configuration> | undefined;
  private keys: JWTVerifyGetKey | undefined;
  private readonly logger = new Logger('IdentityProvider');

  constructor(config: AppConfig) {
    this.settings = config.adminOidc;
  }

  /** The settings, or 404 when sign-in is not configured. */
  required(): AdminOidcSettings {
    if (this.settings === undefined) throw new SignInNotConfiguredError();
    return this.settings;
  }

  /** openid-client's configuration from the discovery document; 503 OIDC_UNAVAILABLE when the IdP cannot be reached. */
  async configuration(): Promise<oidc.Configuration> {
    const settings = this.required();
    this.discovered ??= this.discover(settings);
    try {
      return await this.discovered;
    } catch {
      this.discovered = undefined;
      throw new OidcUnavailableError();
    }
  }

  /** The issuer's JWKS (jose's remote key set: cached, refetched on an unknown kid at most once a minute). */
  async signingKeys(): Promise<JWTVerifyGetKey> {
    if (this.keys !== undefined) return this.keys;
    const jwksUri = (await this.configuration()).serverMetadata().jwks_uri;
    if (jwksUri === undefined) throw new OidcUnavailableError();
    this.keys ??= joseLibrary().createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: JWKS_REFETCH_MS, cacheMaxAge: 10 * 60_000, timeoutDuration: IDP_TIMEOUT_S * 1000 });
    return this.keys;
  }

  private async discover(settings: AdminOidcSettings): Promise<oidc.Configuration> {
    const client = openidClient();
    const insecure = new URL(settings.issuer).protocol === 'http:';
    const auth = settings.clientSecret === undefined ? client.None() : client.ClientSecretBasic(settings.clientSecret);
    try {
      const configuration = await client.discovery(new URL(settings.issuer), settings.clientId, undefined, auth, {
        timeout: IDP_TIMEOUT_S,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
      // The ID token's signature is checked against the issuer's keys, not only trusted for coming over TLS.
      client.enableNonRepudiationChecks(configuration);
      return configuration;
    } catch (error) {
      this.logger.warn(`OpenID Connect discovery at the issuer failed: ${(error as Error).message}`);
      throw error;
    }
  }
}
