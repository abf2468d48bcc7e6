import { ArgumentMetadata, Injectable, Type, ValidationPipe } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ValidationFailedError } from './api-error';
import { BODY_TRANSFORM_OPTIONS, BODY_VALIDATOR_OPTIONS, detailsOf, validateBody } from './validate-body';

/** Valid bodies remembered per DTO class, by their JSON text; larger bodies are validated every time. */
const VALIDATED_BODIES_PER_DTO = 10_000;
const MAX_REMEMBERED_BODY_CHARS = 2048;

/**
 * class-validator over every DTO: unknown fields rejected, no implicit type conversion, and every problem
 * reported as a `details` entry per field in the one error shape. A body that is not a JSON object is a 400 too.
 *
 * A body identical to one validated recently (the same JSON text for the same DTO: a client's retry) gets the same,
 * frozen DTO instance back without running class-transformer and class-validator again. Validation is a pure function
 * of the parsed body, so the answer is the one a fresh validation would give; only valid bodies are remembered.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  private readonly validatedBodies = new Map<Type, LRUCache<string, object>>();

  constructor() {
    super({
      ...BODY_VALIDATOR_OPTIONS,
      transform: true,
      transformOptions: BODY_TRANSFORM_OPTIONS,
      exceptionFactory: (errors) => new ValidationFailedError(errors.flatMap((error) => detailsOf(error))),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // A path or query value PostgreSQL text cannot hold (U+0000) names nothing stored; a 400, never a 500 from the query.
    if (typeof value === 'string' && value.includes('\u0000')) {
      const field = metadata.data ?? metadata.type;
      throw new ValidationFailedError([{ field, message: `${field} must not contain the NUL character (U+0000)` }]);
    }
    if (metadata.type !== 'body') return super.transform(value, metadata);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ValidationFailedError([{ message: 'The body must be a JSON object' }]);
    }
    const dto = metadata.metatype;
    if (dto === undefined || !this.toValidate(metadata)) return super.transform(value, metadata);
    let remembered = this.validatedBodies.get(dto);
    if (remembered === undefined) {
      remembered = new LRUCache({ max: VALIDATED_BODIES_PER_DTO });
      this.validatedBodies.set(dto, remembered);
    }
    const text = JSON.stringify(value);
    const known = remembered.get(text);
    if (known !== undefined) return known;
    // The same function validates every row of an import (src/imports), so a row passes exactly when this body would.
    const validation = validateBody(dto as Type<object>, value);
    if (!validation.ok) throw new ValidationFailedError(validation.details);
    const validated = validation.value;
    if (text.length <= MAX_REMEMBERED_BODY_CHARS) remembered.set(text, Object.freeze(validated));
    return validated;
  }
}
