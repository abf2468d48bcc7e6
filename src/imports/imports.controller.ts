import { Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { ErrorBodyDoc } from '../common/api-error.docs';
import { RequiresToken } from '../common/bearer-auth.guard';
import { formatOf } from './import-upload';
import { ImportErrorPageDoc, ImportListDoc, ImportViewDoc } from './import.docs';
import { ImportErrorsQuery, ListImportsQuery } from './import.queries';
import { UnsupportedImportTypeError } from './import.errors';
import type { ImportRowErrorView, ImportView } from './import.types';
import { ImportsService } from './imports.service';

@ApiTags('imports')
@ApiBearerAuth()
@ApiResponse({ status: 401, type: ErrorBodyDoc, description: 'UNAUTHORIZED' })
@RequiresToken('inbound')
@Controller('v1/imports')
export class ImportsController {
  constructor(private readonly imports: ImportsService) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Upload users to register (NDJSON: one POST /v1/users body per line; or CSV with a header row of those field names)' })
  @ApiConsumes('application/x-ndjson', 'text/csv')
  @ApiBody({ schema: { type: 'string', format: 'binary' }, description: 'Up to 1,000,000 rows / 256 MiB (IMPORT_MAX_ROWS / IMPORT_MAX_BYTES)' })
  @ApiResponse({ status: 202, type: ImportViewDoc, description: 'Staged; Location names the import, whose rows are registered in the background' })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'INVALID_IMPORT_FILE: not NDJSON/CSV, no or a bad CSV header; nothing staged' })
  @ApiResponse({ status: 413, type: ErrorBodyDoc, description: 'PAYLOAD_TOO_LARGE: over the row or size limit; nothing staged' })
  @ApiResponse({ status: 415, type: ErrorBodyDoc, description: 'UNSUPPORTED_MEDIA_TYPE' })
  @ApiResponse({ status: 429, type: ErrorBodyDoc, description: 'TOO_MANY_UPLOADS: IMPORT_MAX_UPLOADS uploads are being staged on this replica; retry after Retry-After seconds' })
  async create(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<ImportView> {
    const format = formatOf(request.headers['content-type']);
    if (format === undefined || !(request.body instanceof Readable)) throw new UnsupportedImportTypeError();
    const view = await this.imports.create(request.body, format);
    void reply.header('location', `/v1/imports/${view.id}`);
    return view;
  }

  @Get()
  @ApiOperation({ summary: 'Imports, newest first' })
  @ApiResponse({ status: 200, type: ImportListDoc })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'VALIDATION_FAILED: bad limit' })
  list(@Query() query: ListImportsQuery): Promise<{ items: ImportView[] }> {
    return this.imports.list(query.limit);
  }

  @Get(':id')
  @ApiOperation({ summary: 'An import: status, counts, pace and time left' })
  @ApiResponse({ status: 200, type: ImportViewDoc })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND' })
  get(@Param('id') id: string): Promise<ImportView> {
    return this.imports.get(id);
  }

  @Get(':id/errors')
  @ApiOperation({ summary: "An import's bad rows in line order, keyset-paginated" })
  @ApiResponse({ status: 200, type: ImportErrorPageDoc })
  @ApiResponse({ status: 400, type: ErrorBodyDoc, description: 'VALIDATION_FAILED: bad cursor or limit' })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND' })
  errors(@Param('id') id: string, @Query() query: ImportErrorsQuery): Promise<{ items: ImportRowErrorView[]; nextCursor: string | null }> {
    return this.imports.rowErrors(id, query.cursor, query.limit);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw the rows not yet sent to Capa (counted as cancelled); rows already sent finish normally' })
  @ApiResponse({ status: 200, type: ImportViewDoc, description: 'The import after the cancel' })
  @ApiResponse({ status: 404, type: ErrorBodyDoc, description: 'NOT_FOUND' })
  cancel(@Param('id') id: string): Promise<ImportView> {
    return this.imports.cancel(id);
  }
}
