import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, JWTPayload, SignJWT } from 'jose';

type SigningSecret = Parameters<SignJWT['sign']>[0];

/** The person who signs in at the next /authorize (the provider's login page, skipped). */
export interface OidcUser {
  sub: string;
  name?: string;
  email?: string;
  /** Placed at the provider's roles claim (see rolesClaim); undefined: no claim. */
  roles?: string[] | string;
}

export interface OidcProviderOptions {
  clientId: string;
  /** Set: a confidential client (client_secret_basic); unset: a public client. */
  clientSecret?: string;
  /** Claim path for roles, e.g. 'roles' or 'realm_access.roles'. */
  rolesClaim?: string;
  /** Put the roles only into userinfo, not the ID token. */
  rolesOnlyInUserinfo?: boolean;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce: string | undefined;
  user: OidcUser;
}

type SigningKey = { kid: string; alg: string; privateKey: SigningSecret; jwk: JWK };

/**
 * A small OpenID Provider for tests, over real HTTP: discovery, JWKS, /authorize (redirects back at once with a code
 * for `nextUser`), /token (checks the client, redirect_uri and the PKCE verifier; answers an ID token with the nonce
 * and an access token), /userinfo. It also mints JWTs (`mint`) for the admin API's bearer tests.
 */
export class OidcTestProvider {
  issuer = '';
  nextUser: OidcUser = { sub: 'operator-1', name: 'Olivia Operator', email: 'olivia@example.com', roles: ['onboarding:operator'] };
  /** Every request path the provider received, in order (e.g. to count JWKS fetches). */
  readonly requests: string[] = [];
  /** Set: /authorize redirects back with this error instead of a code. */
  authorizeError: string | undefined;
  /** Set: claims that override the ID token's (a wrong nonce, audience, issuer, an expired token). */
  idTokenOverride: Record<string, unknown> | undefined;
  /** Set: the ID token is signed with this key instead of a published one. */
  idTokenKey: SigningSecret | undefined;
  private server: Server | undefined;
  private readonly codes = new Map<string, PendingCode>();
  private readonly accessTokens = new Map<string, OidcUser>();
  private keys: SigningKey[] = [];

  constructor(private readonly options: OidcProviderOptions) {}

  async start(): Promise<string> {
    this.keys = [await signingKey('RS256')];
    this.server = createServer((request, response) => void this.route(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/realms/test`;
    return this.issuer;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Adds a new signing key (rotation) and makes it the one that signs from now on. */
  async rotateKey(alg = 'ES256'): Promise<void> {
    this.keys.unshift(await signingKey(alg));
  }

  /** A JWT signed by the provider's current key with these claims over sensible defaults (iss, iat, exp in 5 min). */
  async mint(claims: JWTPayload & Record<string, unknown>, header: { kid?: string; alg?: string } = {}, key?: SigningSecret): Promise<string> {
    const signer = this.keys[0];
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: header.alg ?? signer.alg, kid: header.kid ?? signer.kid, typ: 'at+jwt' })
      .sign(key ?? signer.privateKey);
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.issuer);
    this.requests.push(url.pathname);
    const path = url.pathname.replace(new URL(this.issuer).pathname, '');
    try {
      if (path === '/.well-known/openid-configuration') return json(response, 200, this.discovery());
      if (path === '/jwks') return json(response, 200, { keys: this.keys.map((key) => key.jwk) });
      if (path === '/authorize') return this.authorize(url, response);
      if (path === '/token' && request.method === 'POST') return await this.token(request, response);
      if (path === '/userinfo') return this.userinfo(request, response);
      json(response, 404, { error: 'not_found' });
    } catch (error) {
      json(response, 500, { error: 'server_error', error_description: (error as Error).message });
    }
  }

  private discovery(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      userinfo_endpoint: `${this.issuer}/userinfo`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
    };
  }

  private authorize(url: URL, response: ServerResponse): void {
    const query = url.searchParams;
    const redirectUri = query.get('redirect_uri') ?? '';
    if (query.get('client_id') !== this.options.clientId || !redirectUri) return json(response, 400, { error: 'invalid_request' });
    const back = new URL(redirectUri);
    if (query.get('state') !== null) back.searchParams.set('state', query.get('state')!);
    back.searchParams.set('iss', this.issuer);
    if (this.authorizeError !== undefined) {
      back.searchParams.set('error', this.authorizeError);
    } else if (query.get('response_type') !== 'code' || query.get('code_challenge_method') !== 'S256' || !query.get('code_challenge')) {
      back.searchParams.set('error', 'invalid_request');
    } else {
      const code = randomBytes(16).toString('hex');
      this.codes.set(code, { clientId: this.options.clientId, redirectUri, challenge: query.get('code_challenge')!, nonce: query.get('nonce') ?? undefined, user: this.nextUser });
      back.searchParams.set('code', code);
    }
    response.writeHead(302, { location: back.toString() }).end();
  }

  private async token(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(request));
    if (this.options.clientSecret !== undefined) {
      // RFC 6749 2.3.1: id and secret are form-urlencoded, then joined with ':' and base64-encoded.
      const [id, secret] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
      if (id !== this.options.clientId || secret !== this.options.clientSecret) return json(response, 401, { error: 'invalid_client' });
    }
    const code = form.get('code') ?? '';
    const pending = this.codes.get(code);
    this.codes.delete(code);
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (form.get('grant_type') !== 'authorization_code' || pending === undefined || pending.redirectUri !== form.get('redirect_uri') || pending.challenge !== challenge) {
      return json(response, 400, { error: 'invalid_grant' });
    }
    const roles = this.rolesClaims(pending.user);
    const idToken = await this.mint({
      sub: pending.user.sub,
      aud: this.options.clientId,
      nonce: pending.nonce,
      name: pending.user.name,
      email: pending.user.email,
      ...(this.options.rolesOnlyInUserinfo ? {} : roles),
      ...this.idTokenOverride,
    }, {}, this.idTokenKey);
    const accessToken = randomUUID();
    this.accessTokens.set(accessToken, pending.user);
    json(response, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: 300, id_token: idToken, scope: 'openid profile email' });
  }

  private userinfo(request: IncomingMessage, response: ServerResponse): void {
    const user = this.accessTokens.get((request.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (user === undefined) return json(response, 401, { error: 'invalid_token' });
    json(response, 200, { sub: user.sub, name: user.name, email: user.email, ...this.rolesClaims(user) });
  }

  /** The user's roles placed at the configured claim path (nested objects for a dot path). */
  rolesClaims(user: OidcUser): Record<string, unknown> {
    if (user.roles === undefined) return {};
    const path = (this.options.rolesClaim ?? 'roles').split('.');
    return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), user.roles) as Record<string, unknown>;
  }
}

async function signingKey(alg: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
