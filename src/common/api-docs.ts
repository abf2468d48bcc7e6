import { Controller, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorBody } from './api-error';
import { RequiresToken, TokenAudience } from './bearer-auth.guard';

const REFUSALS: Record<TokenAudience, Record<number, string>> = {
  inbound: { 401: 'UNAUTHORIZED' },
  admin: {
    401: 'UNAUTHORIZED: no valid credential (ADMIN_API_KEY, a JWT of the issuer, or a sign-in session)',
    403: 'FORBIDDEN: the role does not allow this (viewers read, operators also write); CSRF_FAILED: a signed-in write without its X-CSRF-Token or from another Origin',
  },
};

/** A controller behind a bearer token of `audience`: the guard's mark, `bearer` in OpenAPI, and its refusals on every route. */
export function TokenRoutes(audience: TokenAudience): ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors(REFUSALS[audience]), RequiresToken(audience));
}

/** A controller of operator routes under `path` (`admin`, `admin/events`, ...): the `admin` tag and the admin credential on every route. */
export function AdminRoutes(path = 'admin'): ClassDecorator {
  return applyDecorators(ApiTags('admin'), TokenRoutes('admin'), Controller(path));
}

/** Error answers of a route (or of every route of a controller), documented with the error shape: status -> description. */
export function ApiErrors(errors: Record<number, string>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) => ApiResponse({ status: Number(status), type: ErrorBody, description })),
  );
}

/** The answers of a route with a JSON body that Fastify refuses before the handler: too large, not JSON. */
export const JSON_BODY_ERRORS = {
  413: 'PAYLOAD_TOO_LARGE: body over 16 KiB',
  415: 'UNSUPPORTED_MEDIA_TYPE: body is not application/json',
} as const;
