import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorBodyDoc } from '../common/api-error.docs';
import { RequiresToken } from '../common/bearer-auth.guard';
import { ImportErrorPageDoc, ImportListDoc, ImportViewDoc } from './import.docs';
import { ImportErrorsQuery, ListImportsQuery } from './import.queries';
import type { ImportRowErrorView, ImportView } from './import.types';
import { ImportsService } from './imports.service';

/** The operator page's view of imports: the same answers as /v1/imports, under the admin token. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiResponse({ status: 401, type: ErrorBodyDoc, description: 'UNAUTHORIZED: missing token or not the ADMIN_API_KEY' })
@RequiresToken('admin')
@Controller('admin/imports')
export class ImportsAdminController {
  constructor(private readonly imports: ImportsService) {}

  @Get()
  @ApiOperation({ summary: 'Imports, newest first, with counts and pace' })
  @ApiResponse({ status: 200, type: ImportListDoc })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'VALIDATION_FAILED: bad limit' })
  list(@Query() query: ListImportsQuery): Promise<{ items: ImportView[] }> {
    return this.imports.list(query.limit);
  }

  @Get(':id/errors')
  @ApiOperation({ summary: "An import's bad rows in line order" })
  @ApiResponse({ status: 200, type: ImportErrorPageDoc })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'VALIDATION_FAILED: bad cursor or limit' })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND' })
  errors(@Param('id') id: string, @Query() query: ImportErrorsQuery): Promise<{ items: ImportRowErrorView[]; nextCursor: string | null }> {
    return this.imports.rowErrors(id, query.cursor, query.limit);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an import: rows not yet sent to Capa are withdrawn' })
  @ApiResponse({ status: 200, type: ImportViewDoc, description: 'The import after the cancel' })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND' })
  cancel(@Param('id') id: string): Promise<ImportView> {
    return this.imports.cancel(id);
  }
}
