import { Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { AdminRoutes, ApiErrors } from '../common/api-docs';
import { decodePageCursor, encodePageCursor } from '../common/page-cursor';
import { InboxListView, toInboxEntryView } from './inbox-views';
import { ListInboxQuery } from './list-inbox.query';
import { WebhookInboxRepository } from './webhook-inbox.repository';

/** The webhook inbox as operators read it (`GET /admin/webhooks`): every signed delivery Capa sent, as received. */
@AdminRoutes()
export class InboxAdminController {
  constructor(private readonly inbox: WebhookInboxRepository) {}

  @Get('webhooks')
  @ApiOperation({ summary: "Capa's webhook deliveries as received, newest first, filtered by outcome and/or search" })
  @ApiResponse({ status: 200, type: InboxListView })
  @ApiErrors({ 400: 'VALIDATION_FAILED: bad outcome, limit, search or cursor' })
  async list(@Query() query: ListInboxQuery): Promise<InboxListView> {
    const beforeId = query.cursor === undefined ? undefined : (decodePageCursor(query.cursor) ?? undefined);
    const page = await this.inbox.listEntries({ outcome: query.outcome, source: query.source, search: query.search, beforeId, limit: query.limit });
    const last = page.rows.at(-1);
    return { items: page.rows.map(toInboxEntryView), nextCursor: page.hasMore && last !== undefined ? encodePageCursor(last.id) : null };
  }
}
