import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, ValidateBy } from 'class-validator';
import { EVENT_TYPES } from './event.types';
import type { EventType } from './event.types';
import { decodeFeedCursor } from './feed-cursor';
import { OneOfParam, PageLimitParam, blankAsAbsent } from '../common/query-params';

export const DEFAULT_FEED_LIMIT = 100;
export const MAX_FEED_LIMIT = 500;

/** `GET /v1/events` query. Implicit conversion is off globally, so `limit` is converted here explicitly. */
export class ListEventsQuery {
  @ApiPropertyOptional({ description: "The previous answer's nextCursor; absent: from the start of the feed. A cursor beyond this database's newest transaction (from another cluster) is 400 INVALID_CURSOR" })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsString()
  @ValidateBy({
    name: 'isFeedCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && decodeFeedCursor(value) !== null,
      defaultMessage: () => 'after must be a nextCursor returned by this endpoint',
    },
  })
  after?: string;

  @PageLimitParam({ maximum: MAX_FEED_LIMIT, default: DEFAULT_FEED_LIMIT })
  limit: number = DEFAULT_FEED_LIMIT;

  @OneOfParam(EVENT_TYPES, 'Only events of this type')
  type?: EventType;
}
