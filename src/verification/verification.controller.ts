import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ApiErrors, JSON_BODY_ERRORS, TokenRoutes } from '../common/api-docs';
import { VerificationLinkDto } from './verification-link.dto';
import { VerificationService } from './verification.service';
import { VerificationLinkAnswer } from './verification.types';

@ApiTags('verification')
@TokenRoutes('inbound')
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
  @ApiResponse({ status: 200, type: VerificationLinkAnswer })
  @ApiErrors({
    400: 'VALIDATION_FAILED (country, redirectUri, unknown fields) or MALFORMED_JSON',
    404: 'NOT_FOUND: no signup for this externalUserId',
    409: 'NOT_REGISTERED (details[0].status) or ALREADY_VERIFIED',
    ...JSON_BODY_ERRORS,
    422: "CAPA_REJECTED: Capa's code in details[0].capaCode",
    502: 'CAPA_MISCONFIGURED: Capa answered 401/403',
    503: 'CAPA_UNAVAILABLE (Retry-After): Capa unreachable within the deadline',
  })
  issueLink(@Param('externalUserId') externalUserId: string, @Body() body: VerificationLinkDto, @Req() request: FastifyRequest): Promise<VerificationLinkAnswer> {
    return this.verification.issueLink(externalUserId, body.country, body.redirectUri, request.id);
  }
}
