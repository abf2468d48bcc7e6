import { Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error';
import type { Principal } from '../common/principal';
import type { Transaction } from '../persistence/transaction';
import { AuditUnavailableError } from './audit.errors';
import { AuditFilter, AuditRepository } from './audit.repository';
import type { AuditActor, AuditOutcome, AuditPage, AuditRecord } from './audit.types';
import { encodePageCursor } from '../common/page-cursor';
import { auditedRouteOf } from './audited-routes';
import { setPendingAudit } from './pending-audit';

/** The principal as the audit log names it (its roles are not kept). */
export function actorOf(principal: Principal): AuditActor {
  return { sub: principal.sub, name: principal.name, email: principal.email, via: principal.via };
}

/** Writes the audit log (every failure to do so is AUDIT_UNAVAILABLE) and reads it. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('Audit');

  constructor(private readonly repository: AuditRepository) {}

  /** Appends the row (in `tx` when given); throws AuditUnavailableError when it cannot be written. */
  async record(record: AuditRecord, tx?: Transaction): Promise<void> {
    try {
      await this.repository.append(record, tx);
    } catch (error) {
      this.logger.error(`Could not write the audit row of ${record.action} (request ${record.requestId}): ${(error as Error).message}`);
      throw new AuditUnavailableError();
    }
  }

  /** Proves the row can be written now (inserted and rolled back), so an action is not done when it could not be. */
  async rehearse(record: AuditRecord): Promise<void> {
    try {
      await this.repository.rehearse(record);
    } catch (error) {
      this.logger.error(`The audit log refused a row of ${record.action} (request ${record.requestId}): ${(error as Error).message}; the action is not done`);
      throw new AuditUnavailableError();
    }
  }

  /**
   * Before an admitted admin write runs: its row is rehearsed (inserted and rolled back), so a log that cannot be
   * written stops the action (503 AUDIT_UNAVAILABLE, nothing done); the row with its outcome is then committed by the
   * audit hook before the answer is sent. No-op on routes that are not audited writes.
   */
  async begin(request: FastifyRequest, principal: Principal): Promise<void> {
    const route = auditedRouteOf(request);
    if (route === undefined) return;
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const pending = { actor: actorOf(principal), action: route.action, target: route.target(params), requestId: request.id, details: route.details?.(request.body) ?? {} };
    await this.rehearse({ ...pending, outcome: 'succeeded' });
    setPendingAudit(request, pending);
  }

  /** The row of an audited admin write refused before its handler ran (403 lack of role, CSRF); no-op elsewhere. */
  async refused(request: FastifyRequest, principal: Principal, outcome: AuditOutcome, error: ApiError): Promise<void> {
    const route = auditedRouteOf(request);
    if (route === undefined) return;
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    await this.record({
      actor: actorOf(principal),
      action: route.action,
      target: route.target(params),
      outcome,
      requestId: request.id,
      details: { statusCode: error.statusCode, code: error.code },
    });
  }

  async list(filter: AuditFilter): Promise<AuditPage> {
    const page = await this.repository.list(filter);
    const last = page.rows.at(-1);
    return { items: page.rows, nextCursor: page.hasMore && last !== undefined ? encodePageCursor(BigInt(last.id)) : null };
  }
}
