import { ApiProperty } from '@nestjs/swagger';

/**
 * An ISO 8601 timestamp field of a response class (TypeScript sees a string; the schema says `date-time`). The rest
 * of its schema (description, required) comes from the class as the plugin reads it.
 */
export function ApiDateTime(options: { nullable?: boolean } = {}): PropertyDecorator {
  return ApiProperty({ type: String, format: 'date-time', ...(options.nullable === true ? { nullable: true } : {}) });
}
