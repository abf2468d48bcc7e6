import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ErrorBodyDoc } from '../common/api-error.docs';
import { RequiresToken } from '../common/bearer-auth.guard';
import { VerificationLinkDto } from './verification-link.dto';
import { VerificationLinkAnswer, VerificationService } from './verification.service';

class VerificationLinkDoc {
  @ApiProperty({ example: 'user-8412' }) externalUserId: string;
  @ApiProperty({ example: '9486244c-ff7d-4c22-9984-797179d7deaa' }) userId: string;
  @ApiProperty({ enum: ['KYC', 'KYB'] }) kind: string;
  @ApiProperty({ description: "Capa's verification session link: a credential, never logged or stored" }) link: string;
  @ApiProperty({ format: 'date-time' }) issuedAt: string;
}

@ApiTags('verification')
@ApiBearerAuth()
@RequiresToken('inbound')
@Controller('v1/users')
export class VerificationController {
  constructor(private readonly verification: VerificationService) {}

  @Post(':externalUserId/verification-link')
  @HttpCode(200)
  // The link is a credential: no cache (browser, proxy, CDN) may keep any answer of this route, errors included.
  @RouteConfig({ cacheControl: 'no-store' })
  @ApiOperation({
    summary: "A KYC (individuals) or KYB (businesses) link to Capa's verification session for a registered user",
    description: 'Every answer, errors included, carries Cache-Control: no-store: the link is a credential.',
  })
  @ApiParam({ name: 'externalUserId', description: 'Percent-encoded (encodeURIComponent)' })
  @ApiBody({ type: VerificationLinkDto })
  @ApiResponse({ status: 200, type: VerificationLinkDoc })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'VALIDATION_FAILED (country, redirectUri, unknown fields) or MALFORMED_JSON' })
  @ApiResponse({ status: 401, type: ErrorBodyDoc, description: 'UNAUTHORIZED' })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND: no signup for this externalUserId' })
  @ApiResponse({ status: 409, type: ErrorBodyDoc, description: 'NOT_REGISTERED (details[0].status) or ALREADY_VERIFIED' })
  @ApiResponse({ status: 413, type: ErrorBodyDoc, description: 'PAYLOAD_TOO_LARGE: body over 16 KiB' })
  @ApiResponse({ status: 415, type: ErrorBodyDoc, description: 'UNSUPPORTED_MEDIA_TYPE: body is not application/json' })
  @ApiResponse({ status: 422, type: ErrorBodyDoc, description: "CAPA_REJECTED: Capa's code in details[0].capaCode" })
  @ApiResponse({ status: 502, type: ErrorBodyDoc, description: 'CAPA_MISCONFIGURED: Capa answered 401/403' })
  @ApiResponse({ status: 503, type: ErrorBodyDoc, description: 'CAPA_UNAVAILABLE (Retry-After): Capa unreachable within the deadline' })
  issueLink(@Param('externalUserId') externalUserId: string, @Body() body: VerificationLinkDto, @Req() request: FastifyRequest): Promise<VerificationLinkAnswer> {
    return this.verification.issueLink(externalUserId, body.country, body.redirectUri, request.id);
  }
}
