import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiErrors, JSON_BODY_ERRORS, TokenRoutes } from '../common/api-docs';
import { SignupMapping } from './signup.types';
import { CreateSignupDto } from './create-signup.dto';
import { normaliseSignup } from './signup-request';
import { SignupsService } from './signups.service';

/** Mappings are answered as JSON text the service already holds (a CREATED one is serialised once, when cached). */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

@ApiTags('signups')
@TokenRoutes('inbound')
@Controller('v1/users')
export class SignupsController {
  constructor(private readonly signups: SignupsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a user at Capa (idempotent on externalUserId)' })
  @ApiBody({ type: CreateSignupDto })
  @ApiResponse({ status: 201, type: SignupMapping, description: 'Created now; Location names the mapping' })
  @ApiResponse({ status: 200, type: SignupMapping, description: 'Same payload already created (Idempotent-Replayed: true); nothing sent to Capa' })
  @ApiResponse({ status: 202, type: SignupMapping, description: 'Accepted, not yet confirmed by Capa; completed in the background (Retry-After)' })
  @ApiErrors({
    400: 'VALIDATION_FAILED or MALFORMED_JSON',
    409: 'EXTERNAL_USER_ID_CONFLICT: registered with a different payload',
    ...JSON_BODY_ERRORS,
    422: 'CAPA_REJECTED: Capa rejected this payload permanently',
  })
  async register(@Body() body: CreateSignupDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const answer = await this.signups.register(normaliseSignup(body), reply.request.id);
    reply.status(answer.statusCode).headers(answer.headers).type(JSON_CONTENT_TYPE);
    return answer.json;
  }

  @Get(':externalUserId')
  @ApiOperation({ summary: 'Read one mapping' })
  @ApiHeader({ name: 'Authorization', required: true, description: 'Bearer <inbound token>' })
  @ApiResponse({ status: 200, type: SignupMapping })
  @ApiErrors({ 404: 'NOT_FOUND' })
  async get(@Param('externalUserId') externalUserId: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const json = await this.signups.mappingJson(externalUserId);
    reply.type(JSON_CONTENT_TYPE);
    return json;
  }
}
