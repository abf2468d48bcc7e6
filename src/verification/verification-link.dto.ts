import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, ValidateBy } from 'class-validator';

/**
 * Countries Capa's current reference lists for KYC. Another page says only MX and DO: the longer list is validated
 * here and Capa has the last word (a country it refuses comes back as 422 CAPA_REJECTED).
 */
export const VERIFICATION_COUNTRIES = [
  'MX', 'DO', 'US', 'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT',
  'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO', 'CH', 'GB', 'MC', 'SM', 'AD', 'VA',
] as const;

export const MAX_REDIRECT_URI_LENGTH = 2048;
/** Schemes that run code, read local files or travel in clear text: never a place to send a user back to. */
const FORBIDDEN_SCHEMES = new Set(['http', 'javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'filesystem']);

/** Why `value` is not an acceptable redirect URI: an absolute https:// URL, or an app scheme such as myapp://done. */
export function redirectUriProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'redirectUri must be a string';
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'redirectUri must not contain whitespace or control characters';
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'redirectUri must be an absolute https:// URL or an app scheme (myapp://...)';
  if (FORBIDDEN_SCHEMES.has(scheme)) return `redirectUri must not use the ${scheme}: scheme`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'redirectUri is not a valid URI';
  }
  // WHATWG URL reads https:///x as host "x"; an https redirect must name its host right after the slashes.
  if (scheme === 'https' && (url.hostname === '' || !/^https:\/\/[^/?#@]/i.test(value))) return 'redirectUri must name a host';
  return undefined;
}

/** `POST /v1/users/{externalUserId}/verification-link`. Unknown fields are rejected by the global pipe. */
export class VerificationLinkDto {
  @ApiProperty({ enum: VERIFICATION_COUNTRIES, description: 'ISO 3166-1 alpha-2, upper case', example: 'MX' })
  @IsString()
  @IsIn(VERIFICATION_COUNTRIES, { message: `country must be one of ${VERIFICATION_COUNTRIES.join(', ')}` })
  country: string;

  @ApiPropertyOptional({
    maxLength: MAX_REDIRECT_URI_LENGTH,
    description: 'Where Capa sends the user afterwards: an https:// URL or an app scheme (myapp://done); absent: not sent',
    example: 'myapp://kyc-done',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_REDIRECT_URI_LENGTH)
  @ValidateBy({
    name: 'isRedirectUri',
    validator: {
      validate: (value: unknown) => redirectUriProblem(value) === undefined,
      defaultMessage: (args) => redirectUriProblem(args?.value) ?? '',
    },
  })
  redirectUri?: string;
}
