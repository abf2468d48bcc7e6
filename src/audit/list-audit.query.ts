import { PageQuery } from '../common/page-query';
import { OneOfParam, TextParam } from '../common/query-params';
import { AUDIT_ACTIONS } from './audit.types';
import type { AuditAction } from './audit.types';

/** `GET /admin/audit` query: exact-match filters and the shared keyset pagination. */
export class ListAuditQuery extends PageQuery {
  @TextParam("Only rows of this actor (its `sub`; the break-glass key is 'api-key')", 512)
  actor?: string;

  @OneOfParam(AUDIT_ACTIONS, 'Only rows of this action')
  action?: AuditAction;

  @TextParam('Only rows about this target, e.g. user:<externalUserId>, event:<id>, import:<id>', 1024, 'user:ext-123')
  target?: string;
}
