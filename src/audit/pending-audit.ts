import type { FastifyRequest } from 'fastify';
import type { AuditRecord } from './audit.types';

/** The audit row an admitted write still owes, everything but its outcome (set by AuditService.begin). */
export type PendingAudit = Omit<AuditRecord, 'outcome'>;

const PENDING = Symbol('pending-audit');
type WithPending = FastifyRequest & { [PENDING]?: PendingAudit };

export function setPendingAudit(request: FastifyRequest, pending: PendingAudit): void {
  (request as WithPending)[PENDING] = pending;
}

export function takePendingAudit(request: FastifyRequest): PendingAudit | undefined {
  const pending = (request as WithPending)[PENDING];
  delete (request as WithPending)[PENDING];
  return pending;
}
