import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime } from '../../common/api-date-time';

export const TIMELINE_KINDS = [
  'signup.accepted',
  'capa.attempt',
  'signup.status',
  'verification.link_issued',
  'capa.webhook',
  'kyc.status',
  'event',
  'event.delivery',
  'operator.action',
  'reconcile',
  'erasure',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** One thing that happened to a user. Never the identifier, the alias, a verification link or a secret. */
export class TimelineItemView {
  @ApiDateTime() at: string;
  @ApiProperty({ enum: TIMELINE_KINDS }) kind: TimelineKind;
  /** One line a support engineer reads. @example 'Capa create call by the worker: created (HTTP 201, 35 ms)' */
  summary: string;
  /**
   * The facts, by kind: signup.accepted {source: api|import, importId}; capa.attempt {operation, outcome, httpStatus,
   * latencyMs, errorCode, by: request|worker|operator}; signup.status {from, to}; verification.link_issued {kind,
   * country}; capa.webhook {type, event, outcome, source, kycStatus}; kyc.status {from, to, capaEvent}; event {id,
   * type}; event.delivery {eventId, eventType, endpoint, attempt, outcome: delivered|failed, httpStatus, error};
   * operator.action {action, outcome, actor, actorName, via, statusCode, code}; reconcile (an inbox entry read back from
   * Capa's notifications) {type, event, outcome, source, notificationId, kycStatus}; erasure (identifier and alias erased)
   * {erasedAt}
   */
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
}

/** `GET /admin/users/{externalUserId}/timeline` answer. */
export class TimelinePage {
  /** Newest first */
  items: TimelineItemView[];
  /** Pass as `cursor` for the next page; null on the last page */
  nextCursor: string | null;
}
