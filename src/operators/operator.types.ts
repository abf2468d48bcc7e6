import { ApiProperty } from '@nestjs/swagger';
import type { PrincipalVia } from '../common/principal';

/** `GET /admin/me`: who the request is. */
export class OperatorView {
  /** @example 'f3a1c2d4-...' */
  sub: string;
  name: string | null;
  email: string | null;
  /** @example ['onboarding:viewer'] */
  roles: string[];
  @ApiProperty({ enum: ['oidc', 'jwt', 'api-key'] })
  via: PrincipalVia;
  /** Only for a sign-in session: send it as X-CSRF-Token on every write. */
  csrfToken?: string;
}
