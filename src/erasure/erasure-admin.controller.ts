import { Param, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AdminRoutes } from '../common/api-docs';
import { SignupMapping } from '../signups/signup.types';
import { EraseRoute } from './erasure.controller';
import { assertNoBody } from './erasure.errors';
import { ErasureService } from './erasure.service';

/** An operator's erase (`POST /admin/users/{externalUserId}/erase`, operator role), audited as `user.erase`. */
@AdminRoutes()
export class ErasureAdminController {
  constructor(private readonly erasure: ErasureService) {}

  @EraseRoute('users/:externalUserId/erase', 'The same effect as POST /v1/users/{externalUserId}/erase; audited as user.erase.')
  erase(@Param('externalUserId') externalUserId: string, @Req() request: FastifyRequest): Promise<SignupMapping> {
    assertNoBody(request.body);
    return this.erasure.erase(externalUserId, 'admin');
  }
}
