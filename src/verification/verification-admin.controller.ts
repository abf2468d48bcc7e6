import { HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AdminRoutes, ApiErrors } from '../common/api-docs';
import { SignupMapping, toMapping } from '../signups/signup.types';
import { VerificationService } from './verification.service';

/** Operators' verification actions (`/admin/users/{id}/kyc/refresh`). */
@AdminRoutes()
export class VerificationAdminController {
  constructor(private readonly verification: VerificationService) {}

  @Post('users/:externalUserId/kyc/refresh')
  @HttpCode(200)
  @ApiOperation({ summary: "Set kyc.status from Capa's details endpoint (only its verdict is read; nothing else is kept)" })
  @ApiParam({ name: 'externalUserId', description: 'Percent-encoded (encodeURIComponent)' })
  @ApiResponse({ status: 200, type: SignupMapping })
  @ApiErrors({ 404: 'NOT_FOUND', 409: 'NOT_REGISTERED: the signup is not CREATED', 422: 'CAPA_REJECTED', 502: 'CAPA_MISCONFIGURED or CAPA_UNEXPECTED_ANSWER (no readable verdict)', 503: 'CAPA_UNAVAILABLE' })
  async refresh(@Param('externalUserId') externalUserId: string, @Req() request: FastifyRequest): Promise<SignupMapping> {
    return toMapping((await this.verification.refresh(externalUserId, request.id)).signup);
  }
}
