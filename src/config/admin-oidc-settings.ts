import type { EnvironmentVariables } from './environment';

/** Operator sign-in at the partner's identity provider (OpenID Connect) and its JWTs on the admin API. */
export interface AdminOidcSettings {
  /** As configured (no trailing slash added or removed): `iss` must equal it exactly. */
  issuer: string;
  clientId: string;
  /** Unset: a public client (PKCE only). */
  clientSecret: string | undefined;
  /** The page's external origin, e.g. https://onboarding.example.com (no path). */
  publicOrigin: string;
  /** `<publicOrigin>/admin/callback`. */
  redirectUri: string;
  /** Expected `aud` of JWT bearer tokens; unset: JWT bearer tokens are refused. */
  audience: string | undefined;
  /** Claim (or dot path, e.g. realm_access.roles) holding the roles. */
  rolesClaim: string;
  scopes: string;
  sessionTtlS: number;
  sessionIdleS: number;
  /** Session and login cookies carry `Secure` unless the page is plain http on a loopback host. */
  secureCookies: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether the URL is https, or http on a loopback host (a developer's machine, tests). */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

function absoluteUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** The settings from the environment (undefined without ADMIN_OIDC_ISSUER), and what is wrong with them. */
export function adminOidcSettings(env: EnvironmentVariables, clientSecret: string | undefined): { settings?: AdminOidcSettings; problems: string[] } {
  const problems: string[] = [];
  const issuer = env.ADMIN_OIDC_ISSUER?.trim();
  if (!issuer) {
    const orphans = ['ADMIN_OIDC_CLIENT_ID', 'ADMIN_OIDC_AUDIENCE'].filter((name) => env[name as keyof EnvironmentVariables] !== undefined);
    if (orphans.length > 0) problems.push(`${orphans.join(', ')} set without ADMIN_OIDC_ISSUER`);
    return { problems };
  }
  const issuerUrl = absoluteUrl(issuer);
  if (issuerUrl === null || !isHttpsOrLoopback(issuerUrl)) {
    problems.push('ADMIN_OIDC_ISSUER must be an absolute https:// URL (http:// only on a loopback host)');
  }
  const clientId = env.ADMIN_OIDC_CLIENT_ID?.trim();
  if (!clientId) problems.push('ADMIN_OIDC_CLIENT_ID is required with ADMIN_OIDC_ISSUER');
  const publicUrl = env.ADMIN_PUBLIC_URL?.trim();
  const publicParsed = publicUrl ? absoluteUrl(publicUrl) : null;
  if (!publicUrl) problems.push('ADMIN_PUBLIC_URL is required with ADMIN_OIDC_ISSUER (the redirect URI is <it>/admin/callback)');
  else if (publicParsed === null) problems.push('ADMIN_PUBLIC_URL must be an absolute http(s):// URL');
  if (env.ADMIN_OIDC_CLIENT_SECRET !== undefined && env.ADMIN_OIDC_CLIENT_SECRET_FILE !== undefined) {
    problems.push('set ADMIN_OIDC_CLIENT_SECRET or ADMIN_OIDC_CLIENT_SECRET_FILE, not both');
  }
  if (problems.length > 0 || !clientId || publicParsed === null) return { problems };
  const publicOrigin = publicParsed.origin;
  return {
    problems,
    settings: {
      issuer,
      clientId,
      clientSecret: clientSecret?.trim() || undefined,
      publicOrigin,
      redirectUri: `${publicOrigin}/admin/callback`,
      audience: env.ADMIN_OIDC_AUDIENCE?.trim() || undefined,
      rolesClaim: env.ADMIN_OIDC_ROLES_CLAIM?.trim() || 'roles',
      scopes: env.ADMIN_OIDC_SCOPES?.trim() || 'openid profile email',
      sessionTtlS: env.ADMIN_SESSION_TTL_S ?? 28_800,
      sessionIdleS: env.ADMIN_SESSION_IDLE_S ?? 3_600,
      secureCookies: !(publicParsed.protocol === 'http:' && LOOPBACK_HOSTS.has(publicParsed.hostname)),
    },
  };
}
