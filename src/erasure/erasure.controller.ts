import { Controller, HttpCode, Param, Post, Req, applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiErrors, JSON_BODY_ERRORS, TokenRoutes } from '../common/api-docs';
import { SignupMapping } from '../signups/signup.types';
import { assertNoBody } from './erasure.errors';
import { ErasureService } from './erasure.service';

const ERASE_SUMMARY = "Erase the user's personal data (GDPR art. 17): identifier and alias removed from everything stored; the link to Capa and idempotency kept";
const ERASE_ERRORS = {
  400: 'VALIDATION_FAILED: a body other than {} (or MALFORMED_JSON)',
  404: 'NOT_FOUND',
  409: 'SIGNUP_PENDING (Retry-After): not settled at Capa yet, nothing changed',
  ...JSON_BODY_ERRORS,
};

/** One erase route (both doors): `POST <path>`, 200 with the erased mapping, its errors documented. */
export function EraseRoute(path: string, description: string): MethodDecorator {
  return applyDecorators(
    Post(path),
    HttpCode(200),
    ApiOperation({ summary: ERASE_SUMMARY, description: `No body (or {}). ${description}` }),
    ApiParam({ name: 'externalUserId', description: 'Percent-encoded (encodeURIComponent)' }),
    ApiResponse({ status: 200, type: SignupMapping, description: 'The erased mapping (identifier and alias null, erasedAt set)' }),
    ApiErrors(ERASE_ERRORS),
  );
}

/** The partner's own deletion flow: `POST /v1/users/{externalUserId}/erase`. */
@ApiTags('signups')
@TokenRoutes('inbound')
@Controller('v1/users')
export class ErasureController {
  constructor(private readonly erasure: ErasureService) {}

  @EraseRoute(':externalUserId/erase', 'Again: 200 with the same mapping and erasedAt, no second user.erased event.')
  erase(@Param('externalUserId') externalUserId: string, @Req() request: FastifyRequest): Promise<SignupMapping> {
    assertNoBody(request.body);
    return this.erasure.erase(externalUserId, 'api');
  }
}
