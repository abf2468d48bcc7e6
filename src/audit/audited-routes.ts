import type { FastifyRequest } from 'fastify';
import type { AuditAction } from './audit.types';

/** An admin write and how its audit row names it. */
export interface AuditedRoute {
  action: AuditAction;
  target(params: Record<string, string | undefined>): string;
  /** Facts from the request worth keeping (never a secret, an identifier or an alias). */
  details?(body: unknown): Record<string, unknown>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const user = (params: Record<string, string | undefined>) => `user:${params.externalUserId ?? ''}`;

/**
 * Every admin write, by Fastify's route (method and template), so a feature's controller needs no audit code and
 * a route of a feature still to come (erase) is audited the day it lands. The sign-in routes audit themselves.
 * test/audit.e2e-spec.ts checks that every write under /admin is here.
 */
export const AUDITED_ROUTES: Readonly<Record<string, AuditedRoute>> = {
  'POST /admin/users/:externalUserId/retry': { action: 'user.retry', target: user },
  'POST /admin/users/:externalUserId/resolve': {
    action: 'user.resolve',
    target: user,
    details: (body) => {
      const userId = (body as { userId?: unknown } | null)?.userId;
      return typeof userId === 'string' && UUID.test(userId) ? { userId } : {};
    },
  },
  'POST /admin/users/:externalUserId/kyc/refresh': { action: 'user.kyc_refresh', target: user },
  'POST /admin/users/:externalUserId/erase': { action: 'user.erase', target: user },
  'POST /admin/events/:id/redeliver': { action: 'event.redeliver', target: (params) => `event:${params.id ?? ''}` },
  'POST /admin/imports/:id/cancel': { action: 'import.cancel', target: (params) => `import:${params.id ?? ''}` },
};

/** The audited route this request is on, if any. */
export function auditedRouteOf(request: FastifyRequest): AuditedRoute | undefined {
  return AUDITED_ROUTES[`${request.method} ${request.routeOptions.url ?? ''}`];
}
