import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { IsPageCursor } from '../admin/page-cursor';

const blankAsAbsent = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

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
  @ApiPropertyOptional({ description: "The previous page's nextCursor" })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsString()
  @IsPageCursor()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit: number = 100;
}
