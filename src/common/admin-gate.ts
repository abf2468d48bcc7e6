import type { FastifyRequest } from 'fastify';

/**
 * Admits a request to an `/admin` route: authenticates it (break-glass key, an IdP's JWT, a sign-in session),
 * checks CSRF and the role, sets its principal (principal.ts), or throws the error to answer. The bearer guard calls
 * it for every admin route; the operators feature provides it (common/ knows no feature).
 */
export abstract class AdminGate {
  abstract admit(request: FastifyRequest): Promise<void>;
}
