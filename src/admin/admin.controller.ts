import { Body, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOperation, ApiParam, ApiResponse } from '@nestjs/swagger';
import { AdminRoutes, ApiErrors, JSON_BODY_ERRORS } from '../common/api-docs';
import { SignupMapping } from '../signups/signup.types';
import { AdminService } from './admin.service';
import { AdminStatsView, SignupDetailView, SignupListView } from './admin-views';
import { ListSignupsQuery } from './list-signups.query';
import { ResolveSignupDto } from './resolve-signup.dto';
import { TimelineQuery } from './timeline/timeline.query';
import { TimelineService } from './timeline/timeline.service';
import { TimelinePage } from './timeline/timeline-views';

const EXTERNAL_USER_ID_PARAM = { name: 'externalUserId', description: 'Percent-encoded (encodeURIComponent)' };

@AdminRoutes()
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly timelines: TimelineService,
  ) {}

  @Get('users')
  @ApiOperation({ summary: 'List signups newest first, filtered by status and/or search, keyset-paginated' })
  @ApiResponse({ status: 200, type: SignupListView })
  @ApiErrors({ 400: 'VALIDATION_FAILED: bad status, limit, search or cursor' })
  list(@Query() query: ListSignupsQuery): Promise<SignupListView> {
    return this.admin.list(query);
  }

  @Get('users/:externalUserId')
  @ApiOperation({ summary: 'One signup with its lease, schedule and attempts log (newest first)' })
  @ApiParam(EXTERNAL_USER_ID_PARAM)
  @ApiResponse({ status: 200, type: SignupDetailView })
  @ApiErrors({ 404: 'NOT_FOUND' })
  detail(@Param('externalUserId') externalUserId: string): Promise<SignupDetailView> {
    return this.admin.detail(externalUserId);
  }

  @Get('users/:externalUserId/timeline')
  @ApiOperation({
    summary: "One user's whole story newest first: signup, Capa attempts, status changes, links, webhooks, KYC, events and their pushes",
  })
  @ApiParam(EXTERNAL_USER_ID_PARAM)
  @ApiResponse({ status: 200, type: TimelinePage })
  @ApiErrors({ 400: 'VALIDATION_FAILED: bad limit or cursor', 404: 'NOT_FOUND' })
  timeline(@Param('externalUserId') externalUserId: string, @Query() query: TimelineQuery): Promise<TimelinePage> {
    return this.timelines.page(externalUserId, query);
  }

  @Post('users/:externalUserId/retry')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Re-drive a FAILED, NEEDS_ATTENTION or idle PENDING signup now; a CREATED one is answered unchanged',
  })
  @ApiParam(EXTERNAL_USER_ID_PARAM)
  @ApiResponse({ status: 200, type: SignupMapping, description: 'The signup after this attempt' })
  @ApiErrors({ 404: 'NOT_FOUND', 409: 'LEASE_HELD: another process is driving it right now; PAYLOAD_ERASED: its personal data was erased' })
  retry(@Param('externalUserId') externalUserId: string, @Req() request: FastifyRequest): Promise<SignupMapping> {
    return this.admin.retry(externalUserId, request.id);
  }

  @Post('users/:externalUserId/resolve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attach a known Capa userId to a NEEDS_ATTENTION or FAILED signup (it becomes CREATED)' })
  @ApiParam(EXTERNAL_USER_ID_PARAM)
  @ApiResponse({ status: 200, type: SignupMapping })
  @ApiErrors({
    400: 'VALIDATION_FAILED (userId is not a UUID) or MALFORMED_JSON',
    404: 'NOT_FOUND',
    409: 'INVALID_STATE: the signup is PENDING or CREATED; USER_ID_ALREADY_ATTACHED: another signup holds that userId',
    ...JSON_BODY_ERRORS,
  })
  resolve(@Param('externalUserId') externalUserId: string, @Body() body: ResolveSignupDto): Promise<SignupMapping> {
    return this.admin.resolve(externalUserId, body.userId);
  }

  @Get('stats')
  @ApiOperation({ summary: 'Signups by status, signups per hour (24 h), and this process’s Capa call statistics' })
  @ApiResponse({ status: 200, type: AdminStatsView })
  stats(): Promise<AdminStatsView> {
    return this.admin.stats();
  }
}
