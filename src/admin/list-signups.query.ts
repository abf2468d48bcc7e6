import { SIGNUP_STATUSES } from '../signups/signup.types';
import type { SignupStatus } from '../signups/signup.types';
import { KYC_STATUSES } from '../verification/kyc-status';
import type { KycStatus } from '../verification/kyc-status';
import { PageQuery } from '../common/page-query';
import { OneOfParam, TextParam } from '../common/query-params';

/** `GET /admin/users` query. */
export class ListSignupsQuery extends PageQuery {
  @OneOfParam(SIGNUP_STATUSES, 'Only signups in this status')
  status?: SignupStatus;

  @OneOfParam(KYC_STATUSES, 'Only signups whose kyc.status is this')
  kycStatus?: KycStatus;

  @TextParam('A prefix of externalUserId, or an exact Capa userId, or an exact identifier (email / E.164 phone)', 256, 'user-84')
  search?: string;
}
