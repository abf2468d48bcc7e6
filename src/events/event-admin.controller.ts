import { Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import { decodePageCursor, encodePageCursor } from '../common/page-cursor';
import { NotFoundError, ValidationFailedError } from '../common/api-error';
import { AdminRoutes, ApiErrors } from '../common/api-docs';
import { AppConfig } from '../config/app-config';
import { DeliveryList, Redelivery } from './event.types';
import { EventOperationsRepository } from './event-operations.repository';
import { ListDeliveriesQuery } from './list-deliveries.query';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Operators: event deliveries by status and endpoint, and sending an event again. */
@AdminRoutes('admin/events')
export class EventAdminController {
  constructor(
    private readonly operations: EventOperationsRepository,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Event deliveries newest first, by delivery status and/or endpoint, keyset-paginated' })
  @ApiResponse({ status: 200, type: DeliveryList })
  @ApiErrors({ 400: 'VALIDATION_FAILED: bad deliveryStatus, endpoint, cursor or limit' })
  async list(@Query() query: ListDeliveriesQuery): Promise<DeliveryList> {
    const beforeId = query.cursor === undefined ? undefined : (decodePageCursor(query.cursor) ?? undefined);
    const page = await this.operations.listDeliveries({ status: query.deliveryStatus, endpoint: query.endpoint, beforeId, limit: query.limit });
    const last = page.rows.at(-1);
    return { items: page.rows, nextCursor: page.hasMore && last !== undefined ? encodePageCursor(BigInt(last.deliveryId)) : null };
  }

  @Post(':id/redeliver')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send an event again to every configured endpoint (its deliveries become PENDING, due now, with a new retry window)',
    description: 'A delivery being sent at this moment is not sent a second time at once: it stays with that send (DELIVERED when acknowledged, otherwise due again after its backoff).',
  })
  @ApiParam({ name: 'id', description: "The event's id (a UUID)" })
  @ApiResponse({ status: 200, type: Redelivery })
  @ApiErrors({ 400: 'VALIDATION_FAILED: id is not a UUID', 404: 'NOT_FOUND: no such event (or pruned)' })
  async redeliver(@Param('id') id: string): Promise<Redelivery> {
    if (!UUID.test(id)) throw new ValidationFailedError([{ field: 'id', message: 'id must be an event id (a UUID)' }]);
    const deliveries = await this.operations.redeliver(id.toLowerCase(), this.config.eventWebhookUrls, this.config.eventRetryWindowMs);
    if (deliveries === null) throw new NotFoundError(`No event ${id}`);
    return { eventId: id.toLowerCase(), deliveries };
  }
}
