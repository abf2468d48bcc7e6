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
