import { ArgumentMetadata, Injectable, Type, ValidationError, ValidationPipe } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ErrorDetail, ValidationFailedError } from './api-error';

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
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationFailedError(errors.flatMap((error) => detailsOf(error))),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
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
    const validated = (await super.transform(value, metadata)) as object;
    if (text.length <= MAX_REMEMBERED_BODY_CHARS) remembered.set(text, Object.freeze(validated));
    return validated;
  }
}

function detailsOf(error: ValidationError, parent = ''): ErrorDetail[] {
  const field = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {});
  const details: ErrorDetail[] = own.length > 0 ? [{ field, message: own.join('; ') }] : [];
  return details.concat((error.children ?? []).flatMap((child) => detailsOf(child, field)));
}
