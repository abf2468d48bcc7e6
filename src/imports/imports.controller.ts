import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { ApiErrors, TokenRoutes } from '../common/api-docs';
import { formatOf } from './import-upload';
import { ImportRoutes } from './import-routes';
import { UnsupportedImportTypeError } from './import.errors';
import { ImportView } from './import.types';
import { ImportsService } from './imports.service';

/** Uploads, and one import by id; the list, the bad rows and the cancel are shared with /admin/imports. */
@ApiTags('imports')
@TokenRoutes('inbound')
@Controller('v1/imports')
export class ImportsController extends ImportRoutes({
  list: 'Imports, newest first',
  errors: "An import's bad rows in line order, keyset-paginated",
  cancel: 'Withdraw the rows not yet sent to Capa (counted as cancelled); rows already sent finish normally',
}) {
  constructor(imports: ImportsService) {
    super(imports);
  }

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Upload users to register (NDJSON: one POST /v1/users body per line; or CSV with a header row of those field names)' })
  @ApiConsumes('application/x-ndjson', 'text/csv')
  @ApiBody({ schema: { type: 'string', format: 'binary' }, description: 'Up to 1,000,000 rows / 256 MiB (IMPORT_MAX_ROWS / IMPORT_MAX_BYTES)' })
  @ApiResponse({ status: 202, type: ImportView, description: 'Staged; Location names the import, whose rows are registered in the background' })
  @ApiErrors({
    400: 'INVALID_IMPORT_FILE: not NDJSON/CSV, no or a bad CSV header; nothing staged',
    413: 'PAYLOAD_TOO_LARGE: over the row or size limit; nothing staged',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    429: 'TOO_MANY_UPLOADS: IMPORT_MAX_UPLOADS uploads are being staged on this replica; retry after Retry-After seconds',
  })
  async create(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<ImportView> {
    const format = formatOf(request.headers['content-type']);
    if (format === undefined || !(request.body instanceof Readable)) throw new UnsupportedImportTypeError();
    const view = await this.imports.create(request.body, format);
    void reply.header('location', `/v1/imports/${view.id}`);
    return view;
  }

  @Get(':id')
  @ApiOperation({ summary: 'An import: status, counts, pace and time left' })
  @ApiResponse({ status: 200, type: ImportView })
  @ApiErrors({ 404: 'NOT_FOUND' })
  get(@Param('id') id: string): Promise<ImportView> {
    return this.imports.get(id);
  }
}
