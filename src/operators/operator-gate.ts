import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminGate } from '../common/admin-gate';
import { ApiError, ForbiddenError, UnauthorizedError } from '../common/api-error';
import { bearerToken, digest, matchesOneOf } from '../common/bearer-auth.guard';
import { API_KEY_PRINCIPAL, Principal, isSafeMethod, mayCall, setPrincipal } from '../common/principal';
import { AppConfig } from '../config/app-config';
import { AuditService } from '../audit/audit.service';
import { JwtBearer } from './jwt-bearer';
import { OperatorSessions, csrfTokenMatches } from './operator-sessions';
import { CsrfFailedError } from './operators.errors';
import { SESSION_COOKIE, cookieOf } from './session-cookies';

/** Routes any signed-in operator may call whatever their roles (signing out). */
const ROLE_FREE_ROUTES = new Set(['POST /admin/logout']);

/** Who the request is, and whether a cookie (not a bearer token) says so: only then does CSRF apply. */
export interface Authentication {
  principal: Principal;
  byCookie: boolean;
}

/**
 * Admits admin requests: the break-glass key, the issuer's JWT, or a sign-in session cookie (whose writes need the CSRF
 * token and, if the browser names one, the page's Origin: else 403 CSRF_FAILED, audited as failed); then the role (viewer reads, operator writes; neither: 403 FORBIDDEN).
 * A write refused for its role is audited as `denied` before the 403 is sent.
 */
@Injectable()
export class OperatorGate extends AdminGate {
  private readonly keyDigests: Buffer[];

  constructor(
    config: AppConfig,
    private readonly audit: AuditService,
    private readonly jwt: JwtBearer,
    private readonly sessions: OperatorSessions,
  ) {
    super();
    this.keyDigests = config.adminApiKey === undefined ? [] : [digest(config.adminApiKey)];
    this.publicOrigin = config.adminOidc?.publicOrigin;
  }

  private readonly publicOrigin: string | undefined;

  async admit(request: FastifyRequest): Promise<void> {
    const { principal, byCookie } = await this.authenticate(request);
    if (byCookie && !isSafeMethod(request.method) && !this.csrfProven(request)) {
      await this.refuse(request, principal, 'failed', new CsrfFailedError());
    }
    if (!ROLE_FREE_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`) && !mayCall(principal, request.method)) {
      await this.refuse(request, principal, 'denied', new ForbiddenError());
    }
    setPrincipal(request, principal);
    if (!isSafeMethod(request.method)) await this.audit.begin(request, principal);
  }

  private async authenticate(request: FastifyRequest): Promise<Authentication> {
    const token = bearerToken(request);
    if (token !== undefined) {
      if (this.keyDigests.length > 0 && matchesOneOf(this.keyDigests, token)) return { principal: API_KEY_PRINCIPAL, byCookie: false };
      if (this.jwt.accepts(token)) return { principal: await this.jwt.verify(token), byCookie: false };
      throw new UnauthorizedError();
    }
    const sessionId = cookieOf(request, SESSION_COOKIE);
    const principal = sessionId === undefined ? null : await this.sessions.find(sessionId);
    if (principal === null) throw new UnauthorizedError();
    return { principal, byCookie: true };
  }

  /** The session's CSRF token in X-CSRF-Token (constant-time), and the page's own Origin when the browser sent one. */
  private csrfProven(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== this.publicOrigin) return false;
    const header = request.headers['x-csrf-token'];
    return csrfTokenMatches(cookieOf(request, SESSION_COOKIE)!, typeof header === 'string' ? header : undefined);
  }

  /** Audits the refused write (if the route is one), then answers the error. */
  private async refuse(request: FastifyRequest, principal: Principal, outcome: 'denied' | 'failed', error: ApiError): Promise<never> {
    if (!isSafeMethod(request.method)) await this.audit.refused(request, principal, outcome, error);
    throw error;
  }
}
