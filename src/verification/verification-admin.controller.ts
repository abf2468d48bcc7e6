import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ErrorBody } from '../common/api-error';
import { RequiresToken } from '../common/bearer-auth.guard';
import { SignupMapping, toMapping } from '../signups/signup.types';
import { VerificationService } from './verification.service';

/** Operators' verification actions (`/admin/users/{id}/kyc/refresh`). */
@ApiTags('admin')
@ApiBearerAuth()
@ApiResponse({ status: 401, type: ErrorBody, description: 'UNAUTHORIZED: missing token or not the ADMIN_API_KEY' })
@RequiresToken('admin')
@Controller('admin')
export class VerificationAdminController {
  constructor(private readonly verification: VerificationService) {}

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
}
