import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  isEmail,
  IsOptional,
  IsString,
  Length,
  Matches,
  ValidateIf,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { isValidPhoneNumber } from 'libphonenumber-js';
import { AUTH_METHODS, USER_TYPES } from './signup.types';
import type { AuthMethod, UserType } from './signup.types';

const E164 = /^\+[1-9]\d{1,14}$/;

/** `POST /v1/users`: Capa's own field names. Unknown fields are rejected by the global pipe. */
export class CreateSignupDto {
  @ApiProperty({ description: "The partner's own user id: 1..128 printable ASCII characters, no whitespace", example: 'user-8412' })
  @IsString()
  @Length(1, 128)
  @Matches(/^[\x21-\x7e]+$/, { message: 'externalUserId must be printable ASCII without whitespace' })
  externalUserId: string;

  @ApiPropertyOptional({ enum: AUTH_METHODS, default: 'NONE' })
  @IsOptional()
  @IsIn(AUTH_METHODS)
  method?: AuthMethod;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'EMAIL: an email address; PHONE_NUMBER: an E.164 number (+ and digits); NONE: absent or null',
    example: 'money@capa.fi',
  })
  @ValidateIf(() => true)
  @IdentifierMatchesMethod()
  identifier?: string | null;

  @ApiPropertyOptional({ enum: USER_TYPES })
  @IsOptional()
  @IsIn(USER_TYPES)
  userType?: UserType;

  @ApiPropertyOptional({ minLength: 1, maxLength: 120, example: 'Satoshi Nakamoto' })
  @IsOptional()
  @IsString()
  @Length(1, 120)
  alias?: string;
}

/** The identifier must fit the method: an email, a real E.164 number, or nothing for NONE / no method. */
function IdentifierMatchesMethod() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'identifierMatchesMethod',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown, args: ValidationArguments) => identifierProblem(value, args.object) === undefined,
        defaultMessage: (args: ValidationArguments) => identifierProblem(args.value, args.object) ?? '',
      },
    });
}

function identifierProblem(value: unknown, body: object): string | undefined {
  const method = (body as { method?: unknown }).method;
  const absent = value === undefined || value === null;
  if (method === undefined || method === null) {
    return absent ? undefined : 'identifier requires a method (EMAIL or PHONE_NUMBER)';
  }
  if (!(AUTH_METHODS as readonly unknown[]).includes(method)) return undefined;
  if (method === 'NONE') return absent ? undefined : 'identifier must be absent or null when method is NONE';
  if (typeof value !== 'string') return `identifier is required as a string when method is ${String(method)}`;
  if (method === 'EMAIL') return isEmail(value) ? undefined : 'identifier must be a valid email address';
  if (method === 'PHONE_NUMBER') {
    return E164.test(value) && isValidPhoneNumber(value)
      ? undefined
      : 'identifier must be a valid phone number in E.164 format (e.g. +524401234567)';
  }
  return undefined;
}
