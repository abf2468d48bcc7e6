import { Get, HttpCode, Injectable, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs';
import { ImportErrorsQuery, ListImportsQuery } from './import.queries';
import { ImportErrorPage, ImportList, ImportView } from './import.types';
import { ImportsService } from './imports.service';

/** The operation summaries of the shared import routes, per token. */
export interface ImportRouteSummaries {
  list: string;
  errors: string;
  cancel: string;
}

/**
 * The import routes served alike under /v1/imports (inbound token) and /admin/imports (admin token): the list, an
 * import's bad rows, the cancel. Each controller extends its own class from here and adds its path and token.
 */
export function ImportRoutes(summaries: ImportRouteSummaries) {
  @Injectable()
  class SharedImportRoutes {
    constructor(protected readonly imports: ImportsService) {}

    @Get()
    @ApiOperation({ summary: summaries.list })
    @ApiResponse({ status: 200, type: ImportList })
    @ApiErrors({ 400: 'VALIDATION_FAILED: bad limit' })
    list(@Query() query: ListImportsQuery): Promise<ImportList> {
      return this.imports.list(query.limit);
    }

    @Get(':id/errors')
    @ApiOperation({ summary: summaries.errors })
    @ApiResponse({ status: 200, type: ImportErrorPage })
    @ApiErrors({ 400: 'VALIDATION_FAILED: bad cursor or limit', 404: 'NOT_FOUND' })
    errors(@Param('id') id: string, @Query() query: ImportErrorsQuery): Promise<ImportErrorPage> {
      return this.imports.rowErrors(id, query.cursor, query.limit);
    }

    @Post(':id/cancel')
    @HttpCode(200)
    @ApiOperation({ summary: summaries.cancel })
    @ApiResponse({ status: 200, type: ImportView, description: 'The import after the cancel' })
    @ApiErrors({ 404: 'NOT_FOUND' })
    cancel(@Param('id') id: string): Promise<ImportView> {
      return this.imports.cancel(id);
    }
  }
  return SharedImportRoutes;
}
