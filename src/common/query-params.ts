import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';

/** A query parameter given empty (`?status=`) counts as absent, as HTML forms and hand-built URLs send it. */
export const blankAsAbsent = ({ value }: { value: unknown }): unknown => (value === '' ? undefined : value);

/**
 * A list's `limit`: an integer from 1 to `maximum`. Implicit conversion is off globally, so it is converted here;
 * the property's initializer gives the default, which `default` documents.
 */
export function PageLimitParam(options: { maximum: number; default: number }): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: options.maximum, default: options.default }),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(options.maximum),
  );
}

/** An optional filter that takes one of `values` (blank: no filter). */
export function OneOfParam(values: readonly string[], description: string): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ enum: values, description }), Transform(blankAsAbsent), IsOptional(), IsIn(values));
}

/** An optional free-text filter of 1 to `maxLength` characters (blank: no filter). */
export function TextParam(description: string, maxLength: number, example?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description, maxLength, ...(example === undefined ? {} : { example }) }),
    Transform(blankAsAbsent),
    IsOptional(),
    IsString(),
    Length(1, maxLength),
  );
}
