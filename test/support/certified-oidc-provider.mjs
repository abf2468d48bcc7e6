// The certified OpenID Provider (npm `oidc-provider`, ESM only) as a child process for end-to-end tests: Jest's VM
// cannot load it, so test/support/certified-oidc-provider.ts starts this script with node and reads the issuer URL
// from its first stdout line. Configured by JSON in the environment variable CERTIFIED_OIDC_PROVIDER:
//   { client: { id, secret, redirectUri }, scripts: { id, secret }, resource, audience, account: { sub, name, email, roles } }
// - `client`: the operator page, a confidential client (client_secret_basic) with the authorization code flow, PKCE required.
// - `scripts`: a client_credentials client; its access tokens for `resource` are JWTs for `audience`.
// - `account`: who signs in. /interaction/:uid (the provider's login and consent pages) signs this account in and
//   grants the requested scopes at once, so a test drives the whole flow with plain HTTP requests.
// Roles are the `roles` claim (scope `profile`) and a claim of every access token.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

const { client, scripts, resource, audience, account } = JSON.parse(process.env.CERTIFIED_OIDC_PROVIDER);

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: client.id,
      client_secret: client.secret,
      redirect_uris: [client.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: scripts.id,
      client_secret: scripts.secret,
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'certified-test-key' }] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: { openid: ['sub'], profile: ['name', 'roles'], email: ['email'] },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: async (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return { scope: 'admin', audience, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  extraTokenClaims: async () => ({ roles: account.roles }),
  findAccount: async (_ctx, sub) =>
    sub === account.sub
      ? { accountId: sub, claims: async () => ({ sub, name: account.name, email: account.email, roles: account.roles }) }
      : undefined,
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  if (!req.url.startsWith('/interaction/')) return callback(req, res);
  try {
    const { params } = await provider.interactionDetails(req, res);
    const grant = new provider.Grant({ accountId: account.sub, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId: account.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error?.name ?? 'error'));
  }
});

// Ends with the test process: its stdin is a pipe from it, closed when it exits, however it exits.
process.stdin.on('end', () => process.exit(0)).resume();
process.stdout.write(`${issuer}\n`);
