import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { PageCursorParam } from '../common/page-cursor';
import { DELIVERY_STATUSES } from './event.types';
import type { DeliveryStatus } from './event.types';
import { blankAsAbsent } from '../common/query-params';


/** `GET /admin/events` query. */
export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, description: 'Only deliveries in this state (FAILED: given up, redeliver them)' })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  deliveryStatus?: DeliveryStatus;

  @ApiPropertyOptional({ description: 'Only deliveries to this endpoint (one of EVENT_WEBHOOK_URLS, exactly)' })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsString()
  @Length(1, 2048)
  endpoint?: string;

  @PageCursorParam()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 50 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 50;
}
