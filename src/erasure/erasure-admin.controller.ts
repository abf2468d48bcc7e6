import { HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AdminRoutes, ApiErrors } from '../common/api-docs';
import { SignupMapping } from '../signups/signup.types';
import { ERASE_ERRORS, ERASE_PARAM, ERASE_SUMMARY } from './erasure.controller';
import { assertNoBody } from './erasure.errors';
import { ErasureService } from './erasure.service';

/** An operator's erase (`POST /admin/users/{externalUserId}/erase`, operator role), audited as `user.erase`. */
@AdminRoutes()
export class ErasureAdminController {
  constructor(private readonly erasure: ErasureService) {}

  @Post('users/:externalUserId/erase')
  @HttpCode(200)
  @ApiOperation({ summary: ERASE_SUMMARY, description: 'No body (or {}). The same effect as POST /v1/users/{externalUserId}/erase; audited as user.erase.' })
  @ApiParam(ERASE_PARAM)
  @ApiResponse({ status: 200, type: SignupMapping, description: 'The erased mapping (identifier and alias null, erasedAt set)' })
  @ApiErrors(ERASE_ERRORS)
  erase(@Param('externalUserId') externalUserId: string, @Req() request: FastifyRequest): Promise<SignupMapping> {
    assertNoBody(request.body);
    return this.erasure.erase(externalUserId, 'admin');
  }
}
