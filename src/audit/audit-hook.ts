import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AuditUnavailableError } from './audit.errors';
import type { AuditService } from './audit.service';
import type { AuditRecord } from './audit.types';
import { takePendingAudit } from './pending-audit';

/** The error shape's status and code of an answer body, as the audit row's details keep them. */
function answerOf(statusCode: number, payload: unknown): { statusCode: number; code?: string } {
  if (typeof payload !== 'string') return { statusCode };
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code;
    return typeof code === 'string' ? { statusCode, code } : { statusCode };
  } catch {
    return { statusCode };
  }
}

/**
 * Commits the audit row of an admitted admin write with its outcome just before the answer is sent (Fastify's onSend
 * runs after the handler, the validation pipe and the error filter, before a byte is written): 2xx is `succeeded`,
 * anything else `failed` with the answer's status and code. When the row cannot be written the answer becomes 503
 * AUDIT_UNAVAILABLE. No interceptor: the other routes pay one property read, not an observable pipeline.
 */
export function installAuditHook(fastify: FastifyInstance, audit: AuditService): void {
  // A callback hook, not an async one: the answers that owe no row (all but admin writes) cost no promise.
  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => {
    const pending = takePendingAudit(request);
    if (pending === undefined) return done(null, payload);
    const failed = reply.statusCode >= 400;
    const record: AuditRecord = { ...pending, outcome: failed ? 'failed' : 'succeeded', details: failed ? { ...pending.details, ...answerOf(reply.statusCode, payload) } : pending.details };
    audit.record(record).then(
      () => done(null, payload),
      (error: unknown) => {
        const unavailable = error instanceof AuditUnavailableError ? error : new AuditUnavailableError();
        void reply.code(unavailable.statusCode).headers({ ...unavailable.headers, 'content-type': 'application/json; charset=utf-8' });
        done(null, JSON.stringify(unavailable.toBody()));
      },
    );
  });
}
