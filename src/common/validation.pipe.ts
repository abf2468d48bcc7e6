import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorDetail, ValidationFailedError } from './api-error';

/**
 * class-validator over every DTO: unknown fields rejected, no implicit type conversion, and every problem
 * reported as a `details` entry per field in the one error shape. A body that is not a JSON object is a 400 too.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
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
    if (metadata.type === 'body' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ValidationFailedError([{ message: 'The body must be a JSON object' }]);
    }
    return super.transform(value, metadata);
  }
}

function detailsOf(error: ValidationError, parent = ''): ErrorDetail[] {
  const field = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {});
  const details: ErrorDetail[] = own.length > 0 ? [{ field, message: own.join('; ') }] : [];
  return details.concat((error.children ?? []).flatMap((child) => detailsOf(child, field)));
}
