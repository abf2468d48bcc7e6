import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { SIGNUP_STATUSES } from '../signups/signup.types';
import { KYC_STATUSES } from '../verification/kyc-status';
import type { KycStatus } from '../verification/kyc-status';
import type { SignupStatus } from '../signups/signup.types';
import { PageCursorParam } from '../common/page-cursor';
import { blankAsAbsent } from '../common/query-params';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** An empty query parameter (a form's blank field) means "no filter". */

/** `GET /admin/users` query. Implicit conversion is off globally, so `limit` is converted here explicitly. */
export class ListSignupsQuery {
  @ApiPropertyOptional({ enum: SIGNUP_STATUSES, description: 'Only signups in this status' })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsIn(SIGNUP_STATUSES)
  status?: SignupStatus;

  @ApiPropertyOptional({ enum: KYC_STATUSES, description: 'Only signups whose kyc.status is this' })
  @Transform(blankAsAbsent)
  @IsOptional()
  @IsIn(KYC_STATUSES)
  kycStatus?: KycStatus;

  @ApiPropertyOptional({
    description: 'A prefix of externalUserId, or an exact Capa userId, or an exact identifier (email / E.164 phone)',
    example: 'user-84',
    maxLength: 256,
  })
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
