import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ErrorBody } from '../common/api-error';
import { RequiresToken } from '../common/bearer-auth.guard';
import { WebhookInboxRepository } from '../capa-webhooks/webhook-inbox.repository';
import { SignupMapping, toMapping } from '../signups/signup.types';
import { VerificationService } from '../verification/verification.service';
import { ListWebhooksQuery } from './list-webhooks.query';
import { decodePageCursor, encodePageCursor } from '../common/page-cursor';
import { InboxListView, toInboxEntryView } from './webhook-views';

@ApiTags('admin')
@ApiBearerAuth()
@ApiResponse({ status: 401, type: ErrorBody, description: 'UNAUTHORIZED: missing token or not the ADMIN_API_KEY' })
@RequiresToken('admin')
@Controller('admin')
export class AdminVerificationController {
  constructor(
    private readonly verification: VerificationService,
    private readonly inbox: WebhookInboxRepository,
  ) {}

  @Post('users/:externalUserId/kyc/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: "Set kyc.status from Capa's details endpoint (only its verdict is read; nothing else is kept)" })
  @ApiParam({ name: 'externalUserId', description: 'Percent-encoded (encodeURIComponent)' })
  @ApiResponse({ status: 200, type: SignupMapping })
  @ApiResponse({ status: 404, type: ErrorBody, description: 'NOT_FOUND' })
  @ApiResponse({ status: 409, type: ErrorBody, description: 'NOT_REGISTERED: the signup is not CREATED' })
  @ApiResponse({ status: 422, type: ErrorBody, description: 'CAPA_REJECTED' })
  @ApiResponse({ status: 502, type: ErrorBody, description: 'CAPA_MISCONFIGURED or CAPA_UNEXPECTED_ANSWER (no readable verdict)' })
  @ApiResponse({ status: 503, type: ErrorBody, description: 'CAPA_UNAVAILABLE' })
  async refresh(@Param('externalUserId') externalUserId: string, @Req() request: FastifyRequest): Promise<SignupMapping> {
    return toMapping((await this.verification.refresh(externalUserId, request.id)).signup);
  }

  @Get('webhooks')
  @ApiOperation({ summary: "Capa's webhook deliveries as received, newest first, filtered by outcome and/or search" })
  @ApiResponse({ status: 200, type: InboxListView })
  @ApiResponse({ status: 400, type: ErrorBody, description: 'VALIDATION_FAILED: bad outcome, limit, search or cursor' })
  async webhooks(@Query() query: ListWebhooksQuery): Promise<InboxListView> {
    const beforeId = query.cursor === undefined ? undefined : (decodePageCursor(query.cursor) ?? undefined);
    const page = await this.inbox.listEntries({ outcome: query.outcome, source: query.source, search: query.search, beforeId, limit: query.limit });
    const last = page.rows.at(-1);
    return { items: page.rows.map(toInboxEntryView), nextCursor: page.hasMore && last !== undefined ? encodePageCursor(last.id) : null };
  }
}
