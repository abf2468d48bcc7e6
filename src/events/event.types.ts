import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime } from '../common/api-date-time';

/** The delivery states operators see. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What a `signup.*` event carries: the signup's final status and, unless CREATED, Capa's last error. */
export interface SignupSettledData {
  status: 'CREATED' | 'FAILED' | 'NEEDS_ATTENTION';
  error: { code: string; message: string | null } | null;
}

/** What `kyc.status_changed` carries (kyc.status values); `capaEvent` is null when no Capa event caused it (a refresh). */
export interface KycStatusChangedData {
  status: string;
  previousStatus: string;
  capaEvent: string | null;
  /** Where the change was learnt when not from a signed webhook: read back from Capa's notifications, or polled. */
  source?: 'reconciled' | 'polled';
}

/** What `user.erased` carries: when the user's identifier and alias were erased (the mapping's erasedAt). */
export interface UserErasedData {
  erasedAt: string;
}

/**
 * The outbox's event map: every event type this service emits and what its `data` holds. Every writer builds its
 * events through this map (OutboxWriter, the signup settle statements, the webhook inbox's plan), so a reader of the
 * TypeScript finds every event and its shape here.
 */
export interface EventDataByType {
  'signup.created': SignupSettledData;
  'signup.failed': SignupSettledData;
  'signup.needs_attention': SignupSettledData;
  'kyc.status_changed': KycStatusChangedData;
  /** Capa's TRANSACTION payload, as Capa sent it. */
  'capa.transaction': Record<string, unknown>;
  /** The user's personal data was erased (GDPR art. 17); consumers erase their copies. */
  'user.erased': UserErasedData;
}

export type EventType = keyof EventDataByType;
export const EVENT_TYPES = ['signup.created', 'signup.failed', 'signup.needs_attention', 'kyc.status_changed', 'capa.transaction', 'user.erased'] as const satisfies readonly EventType[];

/** One event's type and data, checked against the map. */
export type EventOf<T extends EventType> = { type: T; data: EventDataByType[T] };
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];

/** An event to append to the outbox, in the transaction of the change it reports. */
export type OutboxEventInput = AnyEvent & {
  externalUserId: string;
  /** Capa's userId, when the signup has one. */
  userId: string | null;
  /** Defaults to the database's transaction time. */
  occurredAt?: Date;
  /** W3C traceparent of the writer (tracing on): the event's pushes link to it. */
  traceParent?: string;
};

/** An event as the feed and the webhooks show it. */
export class EventView {
  /** Unique; the webhook-id of its webhook deliveries */
  @ApiProperty({ format: 'uuid' }) id: string;
  type: EventType;
  @ApiDateTime() occurredAt: string;
  externalUserId: string;
  /** Capa's userId */
  userId: string | null;
  /** signup.*: {status, error}; kyc.status_changed: {status, previousStatus, capaEvent}; capa.transaction: Capa’s payload; user.erased: {erasedAt} */
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
