import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class ErrorDetailDoc {
  @ApiPropertyOptional({ example: 'identifier' }) field?: string;
  @ApiProperty({ example: 'identifier must be a valid email address' }) message: string;
}

/** The one error shape of every route. */
export class ErrorBodyDoc {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'VALIDATION_FAILED' }) code: string;
  @ApiProperty({ example: 'The request is invalid' }) message: string;
  @ApiPropertyOptional({ type: [ErrorDetailDoc] }) details?: ErrorDetailDoc[];
}
