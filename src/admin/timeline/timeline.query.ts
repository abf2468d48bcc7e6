import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../common/page-query';
import { PageLimitParam } from '../../common/query-params';
import { TimelineCursorParam } from './timeline-cursor';

/** `GET /admin/users/{externalUserId}/timeline` query: keyset pagination like the lists, on the timeline's own key. */
export class TimelineQuery {
  @TimelineCursorParam()
  cursor?: string;

  @PageLimitParam({ maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  limit: number = DEFAULT_PAGE_SIZE;
}
