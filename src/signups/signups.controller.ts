import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequiresToken } from '../common/bearer-auth.guard';
import { ErrorBodyDoc } from '../common/api-error.docs';
import { SignupMappingDoc } from './signup.docs';
import { CreateSignupDto } from './create-signup.dto';
import { normaliseSignup } from './signup-request';
import { SignupsService } from './signups.service';

/** Mappings are answered as JSON text the service already holds (a CREATED one is serialised once, when cached). */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

@ApiTags('signups')
@ApiBearerAuth()
@RequiresToken('inbound')
@Controller('v1/users')
export class SignupsController {
  constructor(private readonly signups: SignupsService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a user at Capa (idempotent on externalUserId)' })
  @ApiBody({ type: CreateSignupDto })
  @ApiResponse({ status: 201, type: SignupMappingDoc, description: 'Created now; Location names the mapping' })
  @ApiResponse({ status: 200, type: SignupMappingDoc, description: 'Same payload already created (Idempotent-Replayed: true); nothing sent to Capa' })
  @ApiResponse({ status: 202, type: SignupMappingDoc, description: 'Accepted, not yet confirmed by Capa; completed in the background (Retry-After)' })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'VALIDATION_FAILED or MALFORMED_JSON' })
  @ApiResponse({ status: 401, type: ErrorBodyDoc, description: 'UNAUTHORIZED' })
  @ApiResponse({ status: 409, type: ErrorBodyDoc, description: 'EXTERNAL_USER_ID_CONFLICT: registered with a different payload' })
  @ApiResponse({ status: 413, type: ErrorBodyDoc, description: 'PAYLOAD_TOO_LARGE: body over 16 KiB' })
  @ApiResponse({ status: 415, type: ErrorBodyDoc, description: 'UNSUPPORTED_MEDIA_TYPE: body is not application/json' })
  @ApiResponse({ status: 422, type: ErrorBodyDoc, description: 'CAPA_REJECTED: Capa rejected this payload permanently' })
  async register(@Body() body: CreateSignupDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const answer = await this.signups.register(normaliseSignup(body), reply.request.id);
    reply.status(answer.statusCode).headers(answer.headers).type(JSON_CONTENT_TYPE);
    return answer.json;
  }

  @Get(':externalUserId')
  @ApiOperation({ summary: 'Read one mapping' })
  @ApiHeader({ name: 'Authorization', required: true, description: 'Bearer <inbound token>' })
  @ApiResponse({ status: 200, type: SignupMappingDoc })
  @ApiResponse({ status: 401, type: ErrorBodyDoc, description: 'UNAUTHORIZED' })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND' })
  async get(@Param('externalUserId') externalUserId: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const json = await this.signups.mappingJson(externalUserId);
    reply.type(JSON_CONTENT_TYPE);
    return json;
  }
}
