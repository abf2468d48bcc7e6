import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, ValidateBy } from 'class-validator';
import { blankAsAbsent } from './query-params';

/**
 * The list's keyset cursor: the last id shown, base64url-encoded so clients treat it as opaque and never build
 * one from an id. Only the canonical encoding of a positive bigint is accepted.
 */
export function encodePageCursor(lastId: bigint): string {
  return Buffer.from(lastId.toString(), 'utf8').toString('base64url');
}

/** The id a cursor stands for, or null when the string is not a cursor this service issued. */
export function decodePageCursor(cursor: string): bigint | null {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[1-9]\d{0,18}$/.test(decoded)) return null;
  const id = BigInt(decoded);
  if (id > MAX_BIGINT || encodePageCursor(id) !== cursor) return null;
  return id;
}

/** PostgreSQL's bigint maximum: larger ids cannot exist and would fail as a query parameter. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * A query's optional `cursor` parameter: blank is absent, otherwise a nextCursor this endpoint issued, as `decode`
 * (null for anything else) recognises it.
 */
export function CursorParam(decode: (cursor: string) => unknown): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description: "The previous page's nextCursor" }),
    Transform(blankAsAbsent),
    IsOptional(),
    IsString(),
    ValidateBy({
      name: 'isCursor',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && decode(value) !== null,
        defaultMessage: () => 'cursor must be a nextCursor returned by this endpoint',
      },
    }),
  );
}

/** A list query's optional `cursor` parameter, keyed by the last id shown (decodePageCursor). */
export function PageCursorParam(): PropertyDecorator {
  return CursorParam(decodePageCursor);
}
