import { ApiProperty } from '@nestjs/swagger';
import { EVENT_TYPES } from './event.types';

/** OpenAPI shape of one event (the runtime type is EventView). */
export class EventDoc {
  @ApiProperty({ format: 'uuid', description: 'Unique; the webhook-id of its webhook deliveries' }) id: string;
  @ApiProperty({ enum: EVENT_TYPES }) type: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty() externalUserId: string;
  @ApiProperty({ type: String, nullable: true, description: "Capa's userId" }) userId: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'signup.*: {status, error}; kyc.status_changed: {status, previousStatus, capaEvent}; capa.transaction: Capa’s payload',
  })
  data: Record<string, unknown>;
}

export class EventPageDoc {
  @ApiProperty({ type: [EventDoc], description: 'In feed (commit) order' }) items: EventDoc[];
  @ApiProperty({ description: 'Pass as `after` next; unchanged when nothing is new' }) nextCursor: string;
}

export class EndpointSummaryDoc {
  @ApiProperty({ description: 'One of EVENT_WEBHOOK_URLS' }) endpoint: string;
  @ApiProperty() pending: number;
  @ApiProperty() delivered: number;
  @ApiProperty({ description: 'Given up after the retry window' }) failed: number;
  @ApiProperty({ description: 'Deliveries owed: pending plus events not yet scheduled' }) backlog: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) oldestUndeliveredAt: string | null;
}

export class EventStatsDoc {
  @ApiProperty({ type: [EndpointSummaryDoc] }) endpoints: EndpointSummaryDoc[];
  @ApiProperty() backlog: number;
  @ApiProperty() failed: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) oldestUndeliveredAt: string | null;
  @ApiProperty({ description: 'Age of the oldest undelivered event (0 when none is owed)' }) lagSeconds: number;
}

export class DeliveryDoc {
  @ApiProperty() deliveryId: string;
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ enum: EVENT_TYPES }) type: string;
  @ApiProperty() externalUserId: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty() endpoint: string;
  @ApiProperty({ enum: ['PENDING', 'DELIVERED', 'FAILED'] }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, nullable: true, example: 'HTTP 503' }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'PENDING only' }) nextAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deliveredAt: string | null;
}

export class DeliveryListDoc {
  @ApiProperty({ type: [DeliveryDoc], description: 'Newest first' }) items: DeliveryDoc[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class RedeliveryDoc {
  @ApiProperty({ format: 'uuid' }) eventId: string;
  @ApiProperty({ type: [DeliveryDoc] }) deliveries: DeliveryDoc[];
}
