import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { PageCursorParam } from '../common/page-cursor';

/** `GET /v1/imports`: newest first. */
export class ListImportsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

/** `GET /v1/imports/{id}/errors`: row errors in line order, keyset-paginated on the line. */
export class ImportErrorsQuery {
  @PageCursorParam()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}
