import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Observable, catchError, defer, from, mergeMap, throwError } from 'rxjs';
import { principalOf } from '../common/principal';
import { AuditService, actorOf, answerOf } from './audit.service';
import type { AuditRecord } from './audit.types';
import { auditedRouteOf } from './audited-routes';

/**
 * Audits every admin write that reaches its handler (AUDITED_ROUTES): before the action, the row is rehearsed
 * (inserted and rolled back) so that an audit log that cannot be written stops the action (503 AUDIT_UNAVAILABLE,
 * nothing done); after it, the row with the outcome is committed before the answer is sent. Writes refused for
 * their role or CSRF never get here: the admin gate audits those.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const route = auditedRouteOf(request);
    const principal = principalOf(request);
    if (route === undefined || principal === undefined) return next.handle();
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const base = { actor: actorOf(principal), action: route.action, target: route.target(params), requestId: request.id };
    const details = route.details?.(request.body) ?? {};
    const succeeded: AuditRecord = { ...base, outcome: 'succeeded', details };
    return defer(() => this.audit.rehearse(succeeded)).pipe(
      mergeMap(() =>
        next.handle().pipe(
          catchError((error: unknown) => {
            const failed: AuditRecord = { ...base, outcome: 'failed', details: { ...details, ...answerOf(error) } };
            return from(this.audit.record(failed)).pipe(mergeMap(() => throwError(() => error)));
          }),
        ),
      ),
      mergeMap(async (result) => {
        await this.audit.record(succeeded);
        return result;
      }),
    );
  }
}
