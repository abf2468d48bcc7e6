import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ErrorBody } from '../common/api-error';
import { Public } from '../common/bearer-auth.guard';
import { CapaWebhooksService } from './capa-webhooks.service';
import { RawBody } from './raw-body';
import { SIGNATURE_HEADER } from './webhook-signature';

export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Capa's webhook receiver, public on purpose: Capa sends no bearer token; its HMAC signature over the body is the
 * authentication, checked before anything is stored.
 */
@ApiTags('webhooks')
@Public()
@Controller('webhooks')
export class CapaWebhooksController {
  constructor(private readonly webhooks: CapaWebhooksService) {}

  @Post('capa')
  @HttpCode(200)
  // Unsigned and oversized bodies can come from anyone: counted, summarised once a minute, no line per request.
  @RawBody(WEBHOOK_BODY_LIMIT_BYTES, { unloggedStatuses: [401, 413] })
  @ApiOperation({ summary: "Capa's webhook deliveries (KYC and TRANSACTION events), signed with a CAPA_WEBHOOK_SECRETS secret" })
  @ApiHeader({ name: SIGNATURE_HEADER, required: true, description: 'Lower-case hex HMAC-SHA256 of the body' })
  @ApiBody({ schema: { type: 'object', example: { type: 'KYC', event: 'VERIFIED_USER', externalUserId: 'user-8412' } } })
  @ApiResponse({ status: 200, description: 'Stored in the inbox (applied, duplicate, unmatched, unreadable or ignored)' })
  @ApiResponse({ status: 401, type: ErrorBody, description: 'INVALID_SIGNATURE: nothing stored' })
  @ApiResponse({ status: 404, type: ErrorBody, description: 'NOT_FOUND: webhooks are off (no CAPA_WEBHOOK_SECRETS)' })
  @ApiResponse({ status: 413, type: ErrorBody, description: 'PAYLOAD_TOO_LARGE: body over 64 KiB, refused before any signature work' })
  @ApiResponse({ status: 415, type: ErrorBody, description: 'UNSUPPORTED_MEDIA_TYPE: Capa sends application/json' })
  async receive(@Req() request: FastifyRequest): Promise<{ id: string; outcome: string }> {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const received = await this.webhooks.receive(raw, request.headers[SIGNATURE_HEADER], request.id);
    return { id: received.inboxId.toString(), outcome: received.outcome };
  }
}
