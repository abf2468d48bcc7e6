import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { DELIVERY_OUTCOMES } from '../capa-webhooks/webhook-delivery';
import type { DeliveryOutcome } from '../capa-webhooks/webhook-delivery';
import { INBOX_SOURCES, type InboxSource } from '../capa-webhooks/webhook-inbox.repository';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './list-signups.query';
import { PageCursorParam } from '../common/page-cursor';
import { blankAsAbsent } from '../common/query-params';


/** `GET /admin/webhooks` query. */
export class ListWebhooksQuery {
  @ApiPropertyOptional({ enum: DELIVERY_OUTCOMES, description: 'Only deliveries with this outcome' })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsIn(DELIVERY_OUTCOMES)
  outcome?: DeliveryOutcome;

  @ApiPropertyOptional({ enum: INBOX_SOURCES, description: 'Only entries from this source (a signed delivery, or reconciled)' })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsIn(INBOX_SOURCES)
  source?: InboxSource;

  @ApiPropertyOptional({ description: 'An exact externalUserId, SHA-256 of a body, or event name', maxLength: 256 })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsString()
  @Length(1, 256)
  search?: string;

  @PageCursorParam()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = DEFAULT_PAGE_SIZE;
}
