import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors, TokenRoutes } from '../common/api-docs';
import { EventPage } from './event.types';
import { EventFeedRepository } from './event-feed.repository';
import { FEED_START, InvalidCursorError, decodeFeedCursor, encodeFeedCursor, nextFeedCursor } from './feed-cursor';
import { ListEventsQuery } from './list-events.query';

@ApiTags('events')
@TokenRoutes('inbound')
@Controller('v1/events')
export class EventsController {
  constructor(private readonly feed: EventFeedRepository) {}

  @Get()
  @ApiOperation({ summary: 'The event feed in commit order: store nextCursor and pass it as `after` to never miss or repeat an event' })
  @ApiResponse({ status: 200, type: EventPage })
  @ApiErrors({
    400:
      'VALIDATION_FAILED: bad after, limit (1..500) or type. INVALID_CURSOR: after is beyond the newest transaction this database has seen ' +
      '(a cursor from another cluster, e.g. kept across a dump/restore): never answered with an empty page; start again without after',
  })
  async list(@Query() query: ListEventsQuery): Promise<EventPage> {
    // The query DTO has already rejected cursors that do not decode.
    const after = query.after === undefined ? FEED_START : (decodeFeedCursor(query.after) ?? FEED_START);
    const page = await this.feed.page(after, query.limit, query.type);
    if (page.beyondNewest) throw new InvalidCursorError();
    const next = nextFeedCursor(after, page.items.map((item) => item.cursor), query.limit, page.lastExamined);
    return { items: page.items.map((item) => item.event), nextCursor: encodeFeedCursor(next) };
  }
}
