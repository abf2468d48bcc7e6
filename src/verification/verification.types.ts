import { ApiDateTime } from '../common/api-date-time';
import type { VerificationKind } from '../capa/capa-vocabulary';

/** `POST /v1/users/{externalUserId}/verification-link` answer. The link is a credential: never logged or stored. */
export class VerificationLinkAnswer {
  /** @example 'user-8412' */
  externalUserId: string;
  /** @example '9486244c-ff7d-4c22-9984-797179d7deaa' */
  userId: string;
  kind: VerificationKind;
  /** Capa's verification session link: a credential, never logged or stored */
  link: string;
  @ApiDateTime() issuedAt: string;
}
