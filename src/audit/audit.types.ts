import { ApiProperty } from '@nestjs/swagger';
import type { PrincipalVia } from '../common/principal';

export const AUDIT_ACTIONS = [
  'session.sign_in',
  'session.sign_out',
  'user.retry',
  'user.resolve',
  'user.kyc_refresh',
  'user.erase',
  'event.redeliver',
  'import.cancel',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_OUTCOMES = ['succeeded', 'failed', 'denied'] as const;
/** `failed`: the answer was 4xx/5xx; `denied`: 403 for lack of role. */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** Who acted: the principal without its roles. */
export class AuditActor {
  /** @example 'f3a1c2d4-...' */
  sub: string;
  name: string | null;
  email: string | null;
  @ApiProperty({ enum: ['oidc', 'jwt', 'api-key'] })
  via: PrincipalVia;
}

/** One row of the audit log to write: never a secret, never a user's identifier or alias. */
export interface AuditRecord {
  actor: AuditActor;
  action: AuditAction;
  /** `user:<externalUserId>`, `event:<id>`, `import:<id>`; null for sessions. */
  target: string | null;
  outcome: AuditOutcome;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** One row of `GET /admin/audit`. */
export class AuditEntry {
  /** @example '42' */
  id: string;
  at: string;
  actor: AuditActor;
  @ApiProperty({ enum: AUDIT_ACTIONS })
  action: AuditAction;
  /** @example 'user:ext-123' */
  target: string | null;
  @ApiProperty({ enum: AUDIT_OUTCOMES })
  outcome: AuditOutcome;
  requestId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  details: Record<string, unknown>;
}

export class AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}
