import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorBody } from '../common/api-error';
import { RequiresToken } from '../common/bearer-auth.guard';
import { decodePageCursor, encodePageCursor } from '../common/page-cursor';
import { InboxListView, toInboxEntryView } from './inbox-views';
import { ListInboxQuery } from './list-inbox.query';
import { WebhookInboxRepository } from './webhook-inbox.repository';

/** The webhook inbox as operators read it (`GET /admin/webhooks`): every signed delivery Capa sent, as received. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiResponse({ status: 401, type: ErrorBody, description: 'UNAUTHORIZED: missing token or not the ADMIN_API_KEY' })
@RequiresToken('admin')
@Controller('admin')
export class InboxAdminController {
  constructor(private readonly inbox: WebhookInboxRepository) {}

  @Get('webhooks')
  @ApiOperation({ summary: "Capa's webhook deliveries as received, newest first, filtered by outcome and/or search" })
  @ApiResponse({ status: 200, type: InboxListView })
  @ApiResponse({ status: 400, type: ErrorBody, description: 'VALIDATION_FAILED: bad outcome, limit, search or cursor' })
  async list(@Query() query: ListInboxQuery): Promise<InboxListView> {
    const beforeId = query.cursor === undefined ? undefined : (decodePageCursor(query.cursor) ?? undefined);
    const page = await this.inbox.listEntries({ outcome: query.outcome, search: query.search, beforeId, limit: query.limit });
    const last = page.rows.at(-1);
    return { items: page.rows.map(toInboxEntryView), nextCursor: page.hasMore && last !== undefined ? encodePageCursor(last.id) : null };
  }
}
