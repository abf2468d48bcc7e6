import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminGate } from '../common/admin-gate';
import { ApiError, ForbiddenError, UnauthorizedError } from '../common/api-error';
import { bearerToken, digest, matchesOneOf } from '../common/bearer-auth.guard';
import { API_KEY_PRINCIPAL, Principal, isSafeMethod, mayCall, setPrincipal } from '../common/principal';
import { AppConfig } from '../config/app-config';
import { AuditService } from '../audit/audit.service';
import { JwtBearer } from './jwt-bearer';

/** Routes any signed-in operator may call whatever their roles (signing out). */
const ROLE_FREE_ROUTES = new Set(['POST /admin/logout']);

/** Who the request is, and whether a cookie (not a bearer token) says so: only then does CSRF apply. */
export interface Authentication {
  principal: Principal;
  byCookie: boolean;
}

/**
 * Admits admin requests: the break-glass key or the issuer's JWT; then the role (viewer reads, operator writes; neither: 403 FORBIDDEN).
 * A write refused for its role is audited as `denied` before the 403 is sent.
 */
@Injectable()
export class OperatorGate extends AdminGate {
  private readonly keyDigests: Buffer[];

  constructor(
    config: AppConfig,
    private readonly audit: AuditService,
    private readonly jwt: JwtBearer,
  ) {
    super();
    this.keyDigests = config.adminApiKey === undefined ? [] : [digest(config.adminApiKey)];
  }

  async admit(request: FastifyRequest): Promise<void> {
    const { principal } = await this.authenticate(request);
    if (!ROLE_FREE_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`) && !mayCall(principal, request.method)) {
      await this.refuse(request, principal, 'denied', new ForbiddenError());
    }
    setPrincipal(request, principal);
  }

  private async authenticate(request: FastifyRequest): Promise<Authentication> {
    const token = bearerToken(request);
    if (token !== undefined) {
      if (this.keyDigests.length > 0 && matchesOneOf(this.keyDigests, token)) return { principal: API_KEY_PRINCIPAL, byCookie: false };
      if (this.jwt.accepts(token)) return { principal: await this.jwt.verify(token), byCookie: false };
      throw new UnauthorizedError();
    }
    throw new UnauthorizedError();
  }

  /** Audits the refused write (if the route is one), then answers the error. */
  private async refuse(request: FastifyRequest, principal: Principal, outcome: 'denied' | 'failed', error: ApiError): Promise<never> {
    if (!isSafeMethod(request.method)) await this.audit.refused(request, principal, outcome, error);
    throw error;
  }
}
