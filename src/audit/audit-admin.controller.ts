import { Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { AdminRoutes, ApiErrors } from '../common/api-docs';
import { decodePageCursor } from '../common/page-cursor';
import { AuditService } from './audit.service';
import { AuditPage } from './audit.types';
import { ListAuditQuery } from './list-audit.query';

/** Operators read who did what: `GET /admin/audit` (viewer role). */
@AdminRoutes('admin/audit')
export class AuditAdminController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'The audit log newest first: every admin write (succeeded, failed, denied) and every sign-in and sign-out' })
  @ApiResponse({ status: 200, type: AuditPage })
  @ApiErrors({ 400: 'VALIDATION_FAILED: bad actor, action, target, cursor or limit' })
  list(@Query() query: ListAuditQuery): Promise<AuditPage> {
    const beforeId = query.cursor === undefined ? undefined : (decodePageCursor(query.cursor) ?? undefined);
    return this.audit.list({ actor: query.actor, action: query.action, target: query.target, beforeId, limit: query.limit });
  }
}
