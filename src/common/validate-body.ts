import type { Type, ValidationError } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidatorOptions } from 'class-validator';
import type { ErrorDetail } from './api-error';

/** The rules every request body is held to: unknown fields rejected, no implicit type conversion. */
export const BODY_VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};
export const BODY_TRANSFORM_OPTIONS = { enableImplicitConversion: false };

export type BodyValidation<T> = { ok: true; value: T } | { ok: false; details: ErrorDetail[] };

/**
 * Validates one body against its DTO class: the one code path behind the global pipe (`POST /v1/users`) and every
 * row of an import, so a row is accepted exactly when the same body would be.
 */
export function validateBody<T extends object>(dto: Type<T>, body: unknown): BodyValidation<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, details: [{ message: 'The body must be a JSON object' }] };
  }
  const instance = plainToInstance(dto, withoutProtoKeys(body), BODY_TRANSFORM_OPTIONS);
  const errors = validateSync(instance, BODY_VALIDATOR_OPTIONS);
  const details = [...nulDetails(body), ...errors.flatMap((error) => detailsOf(error))];
  if (details.length > 0) return { ok: false, details };
  return { ok: true, value: instance };
}

/** PostgreSQL text cannot store U+0000: any string value holding it is a problem of its field, whatever the DTO. */
function nulDetails(value: unknown, field = ''): ErrorDetail[] {
  if (typeof value === 'string') return value.includes('\u0000') ? [{ field, message: `${field} must not contain the NUL character (U+0000)` }] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, entry]) => nulDetails(entry, field === '' ? key : `${field}.${key}`));
}

/** As Nest's ValidationPipe does: a `__proto__` key in a parsed body never reaches class-transformer. */
function withoutProtoKeys(body: object): object {
  const own = (key: string) => Object.prototype.hasOwnProperty.call(body, key);
  if (!own('__proto__') && !own('constructor') && !own('prototype')) return body;
  const copy = new Map(Object.entries(body));
  for (const key of ['__proto__', 'constructor', 'prototype']) copy.delete(key);
  return Object.fromEntries(copy);
}

export function detailsOf(error: ValidationError, parent = ''): ErrorDetail[] {
  const field = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {});
  const details: ErrorDetail[] = own.length > 0 ? [{ field, message: own.join('; ') }] : [];
  return details.concat((error.children ?? []).flatMap((child) => detailsOf(child, field)));
}
