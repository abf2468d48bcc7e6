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
}

/** An event as the feed and the webhooks show it. */
export interface EventView {
  id: string;
  type: EventType;
  occurredAt: string;
  externalUserId: string;
  userId: string | null;
  data: Record<string, unknown>;
}
