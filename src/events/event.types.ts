import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime } from '../common/api-date-time';

/** The delivery states operators see. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const EVENT_TYPES = ['signup.created', 'signup.failed', 'signup.needs_attention', 'kyc.status_changed', 'capa.transaction'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** An event to append to the outbox, in the transaction of the change it reports. */
export interface OutboxEventInput {
  type: EventType;
  externalUserId: string;
  /** Capa's userId, when the signup has one. */
  userId: string | null;
  data: Record<string, unknown>;
  /** Defaults to the database's transaction time. */
  occurredAt?: Date;
  /** W3C traceparent of the writer (tracing on): the event's pushes link to it. */
  traceParent?: string;
}

/** An event as the feed and the webhooks show it. */
export class EventView {
  /** Unique; the webhook-id of its webhook deliveries */
  @ApiProperty({ format: 'uuid' }) id: string;
  type: EventType;
  @ApiDateTime() occurredAt: string;
  externalUserId: string;
  /** Capa's userId */
  userId: string | null;
  /** signup.*: {status, error}; kyc.status_changed: {status, previousStatus, capaEvent}; capa.transaction: Capa’s payload */
  data: Record<string, unknown>;
}

/** `GET /v1/events` answer. */
export class EventPage {
  /** In feed (commit) order */
  items: EventView[];
  /** Pass as `after` next; unchanged when nothing is new */
  nextCursor: string;
}

/** One delivery as operators see it. */
export class DeliveryView {
  deliveryId: string;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  type: EventType;
  externalUserId: string;
  @ApiDateTime() occurredAt: string;
  endpoint: string;
  status: DeliveryStatus;
  attempts: number;
  /** @example 'HTTP 503' */
  lastError: string | null;
  @ApiDateTime({ nullable: true }) lastAttemptAt: string | null;
  /** PENDING only */
  @ApiDateTime({ nullable: true }) nextAttemptAt: string | null;
  @ApiDateTime({ nullable: true }) deliveredAt: string | null;
}

/** `GET /admin/events` answer. */
export class DeliveryList {
  /** Newest first */
  items: DeliveryView[];
  nextCursor: string | null;
}

/** `POST /admin/events/{id}/redeliver` answer. */
export class Redelivery {
  @ApiProperty({ format: 'uuid' }) eventId: string;
  deliveries: DeliveryView[];
}

/** Where one endpoint stands: deliveries by status, plus events not yet scheduled for it. */
export class EndpointSummary {
  /** One of EVENT_WEBHOOK_URLS */
  endpoint: string;
  pending: number;
  delivered: number;
  /** Given up after the retry window */
  failed: number;
  /** PENDING deliveries plus events past the endpoint's cursor: what it still owes. */
  backlog: number;
  @ApiDateTime({ nullable: true }) oldestUndeliveredAt: string | null;
}

/** `events` in /admin/stats: what the endpoints still owe, and how old the oldest of it is. */
export class EventStatsView {
  endpoints: EndpointSummary[];
  /** Deliveries owed across endpoints (PENDING, plus events not yet scheduled). */
  backlog: number;
  failed: number;
  @ApiDateTime({ nullable: true }) oldestUndeliveredAt: string | null;
  /** Age of the oldest undelivered event, in seconds (0 when nothing is owed). */
  lagSeconds: number;
}
