import { Controller } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AdminRoutes } from '../common/api-docs';
import { ImportRoutes } from './import-routes';

/** The operator page's view of imports: the same answers as /v1/imports, under the admin token. */
@AdminRoutes('admin/imports')
export class ImportsAdminController extends ImportRoutes({
  list: 'Imports, newest first, with counts and pace',
  errors: "An import's bad rows in line order",
  cancel: 'Cancel an import: rows not yet sent to Capa are withdrawn',
}) {}
