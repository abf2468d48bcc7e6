import { PageCursorParam } from '../common/page-cursor';
import { PageLimitParam } from '../common/query-params';

/** `GET /v1/imports`: newest first. */
export class ListImportsQuery {
  @PageLimitParam({ maximum: 100, default: 20 })
  limit: number = 20;
}

/** `GET /v1/imports/{id}/errors`: row errors in line order, keyset-paginated on the line. */
export class ImportErrorsQuery {
  @PageCursorParam()
  cursor?: string;

  @PageLimitParam({ maximum: 1000, default: 100 })
  limit: number = 100;
}
