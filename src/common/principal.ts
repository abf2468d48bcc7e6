import type { FastifyRequest } from 'fastify';

/** How an admin request proved who it is: a sign-in session cookie, an IdP's JWT, or the break-glass ADMIN_API_KEY. */
export type PrincipalVia = 'oidc' | 'jwt' | 'api-key';

/** Read-only: every GET under /admin (audit included). */
export const VIEWER_ROLE = 'onboarding:viewer';
/** The viewer's reads plus every write (retry, resolve, KYC refresh, redeliver, cancel import, erase). */
export const OPERATOR_ROLE = 'onboarding:operator';

/** Who is calling an admin route; the actor of the audit log. */
export interface Principal {
  sub: string;
  name: string | null;
  email: string | null;
  via: PrincipalVia;
  roles: readonly string[];
}

/** The break-glass key holds both roles and is audited as `api-key`. */
export const API_KEY_PRINCIPAL: Principal = Object.freeze({
  sub: 'api-key',
  name: null,
  email: null,
  via: 'api-key',
  roles: Object.freeze([VIEWER_ROLE, OPERATOR_ROLE]),
});

const PRINCIPAL = Symbol('principal');
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: Principal };

/** Set by the admin gate once the request is authenticated. */
export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  (request as WithPrincipal)[PRINCIPAL] = principal;
}

/** The admin request's principal; undefined on routes the admin gate did not admit (inbound, public). */
export function principalOf(request: FastifyRequest): Principal | undefined {
  return (request as WithPrincipal)[PRINCIPAL];
}

/** GET, HEAD and OPTIONS change nothing: viewers may call them and they need no CSRF proof. */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/** Whether the principal may call a route with this method: viewers read, operators also write. */
export function mayCall(principal: Principal, method: string): boolean {
  if (principal.roles.includes(OPERATOR_ROLE)) return true;
  return isSafeMethod(method) && principal.roles.includes(VIEWER_ROLE);
}
