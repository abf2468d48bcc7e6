import { PageCursorParam } from './page-cursor';
import { PageLimitParam } from './query-params';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** The keyset pagination every newest-first list shares: `cursor` (a nextCursor) and `limit` 1..100, default 50. */
export class PageQuery {
  @PageCursorParam()
  cursor?: string;

  @PageLimitParam({ maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  limit: number = DEFAULT_PAGE_SIZE;
}
