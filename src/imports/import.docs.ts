import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IMPORT_STATUSES } from './import.types';

/** The import's counts as documented in OpenAPI (the runtime type is ImportCounts). */
export class ImportCountsDoc {
  @ApiProperty({ description: 'Every row of the file, invalid ones included (blank lines are not rows)' }) rows: number;
  @ApiProperty({ description: 'Rows that failed validation, were not JSON, or repeated an id earlier in the file' }) invalid: number;
  @ApiProperty({ description: 'Ids already registered with the same payload: nothing to do' }) alreadyRegistered: number;
  @ApiProperty({ description: 'Ids already registered with a different payload (EXTERNAL_USER_ID_CONFLICT row errors)' }) conflicts: number;
  @ApiProperty() pending: number;
  @ApiProperty() created: number;
  @ApiProperty() failed: number;
  @ApiProperty() needsAttention: number;
  @ApiProperty({ description: 'Rows withdrawn by a cancel before they were sent to Capa' }) cancelled: number;
}

/** An import as documented in OpenAPI (the runtime type is ImportView). */
export class ImportViewDoc {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: IMPORT_STATUSES }) status: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: ImportCountsDoc }) counts: ImportCountsDoc;
  @ApiProperty({ description: 'Rows settled per second over the last 30 s' }) ratePerSecond: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds until no row is pending, at that pace' }) etaSeconds: number | null;
}

export class ImportListDoc {
  @ApiProperty({ type: [ImportViewDoc] }) items: ImportViewDoc[];
}

export class ImportRowErrorDoc {
  @ApiProperty({ description: 'The line in the file, from 1 (a CSV header is line 1)' }) line: number;
  @ApiPropertyOptional() externalUserId?: string;
  @ApiProperty({ example: 'VALIDATION_FAILED' }) code: string;
  @ApiProperty() message: string;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: '{field?, message} per problem, as POST /v1/users answers' }) details: object[];
}

export class ImportErrorPageDoc {
  @ApiProperty({ type: [ImportRowErrorDoc] }) items: ImportRowErrorDoc[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
