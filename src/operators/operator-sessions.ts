import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuditService, actorOf } from '../audit/audit.service';
import type { Principal } from '../common/principal';
import { PrismaService } from '../persistence/prisma.service';
import { runInTransaction } from '../persistence/transaction';
import { IdentityProvider } from './identity-provider';
import { SessionRepository } from './session.repository';

const SESSION_ID = /^[\w-]{43}$/;

/** SHA-256 of the session id: what the database keeps (a leaked table opens no session). */
const idHashOf = (sessionId: string): Buffer => createHash('sha256').update(`session:${sessionId}`).digest();

/** The session's CSRF token: derived from its id (never stored), so only the cookie's holder can know it. */
export const csrfTokenOf = (sessionId: string): string => createHash('sha256').update(`csrf:${sessionId}`).digest('base64url');

/** Constant-time comparison of the presented CSRF token with the session's. */
export function csrfTokenMatches(sessionId: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(csrfTokenOf(sessionId));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Sign-in sessions: created with their audit row in one transaction, found per request, ended (and audited) at sign-out. */
@Injectable()
export class OperatorSessions {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly audit: AuditService,
    private readonly idp: IdentityProvider,
    private readonly prisma: PrismaService,
  ) {}

  /** A new session (id of 256 random bits) for the operator, and the `session.sign_in` row, committed together. */
  async start(principal: Principal, requestId: string): Promise<string> {
    const settings = this.idp.required();
    const sessionId = randomBytes(32).toString('base64url');
    await this.inTransaction(async (tx) => {
      await this.sessions.deleteStale(tx, settings.sessionIdleS);
      await this.sessions.create(tx, idHashOf(sessionId), principal, settings.sessionTtlS);
      await this.audit.record({ actor: actorOf(principal), action: 'session.sign_in', target: null, outcome: 'succeeded', requestId, details: {} }, tx);
    });
    return sessionId;
  }

  /** The operator of a live session, or null. */
  async find(sessionId: string): Promise<Principal | null> {
    if (this.idp.settings === undefined || !SESSION_ID.test(sessionId)) return null;
    return this.sessions.find(idHashOf(sessionId), this.idp.settings.sessionIdleS);
  }

  /** Deletes the session and writes `session.sign_out`, together. */
  async end(sessionId: string, principal: Principal, requestId: string): Promise<void> {
    await this.inTransaction(async (tx) => {
      await this.sessions.delete(tx, idHashOf(sessionId));
      await this.audit.record({ actor: actorOf(principal), action: 'session.sign_out', target: null, outcome: 'succeeded', requestId, details: {} }, tx);
    });
  }

  /** A sign-in refused for lack of role: audited as denied, no session. */
  async denied(principal: Principal, requestId: string): Promise<void> {
    await this.audit.record({ actor: actorOf(principal), action: 'session.sign_in', target: null, outcome: 'denied', requestId, details: { statusCode: 403, code: 'FORBIDDEN' } });
  }

  private async inTransaction(work: Parameters<typeof runInTransaction>[1]): Promise<void> {
    await runInTransaction(this.prisma.pool, work);
  }
}
