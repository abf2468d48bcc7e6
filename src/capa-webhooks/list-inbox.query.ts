import { DELIVERY_OUTCOMES } from './webhook-delivery';
import type { DeliveryOutcome } from './webhook-delivery';
import { PageQuery } from '../common/page-query';
import { OneOfParam, TextParam } from '../common/query-params';

/** `GET /admin/webhooks` query. */
export class ListInboxQuery extends PageQuery {
  @OneOfParam(DELIVERY_OUTCOMES, 'Only deliveries with this outcome')
  outcome?: DeliveryOutcome;

  @TextParam('An exact externalUserId, SHA-256 of a body, or event name', 256)
  search?: string;
}
