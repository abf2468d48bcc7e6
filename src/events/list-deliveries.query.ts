import { PageQuery } from '../common/page-query';
import { OneOfParam, TextParam } from '../common/query-params';
import { DELIVERY_STATUSES } from './event.types';
import type { DeliveryStatus } from './event.types';

/** `GET /admin/events` query. */
export class ListDeliveriesQuery extends PageQuery {
  @OneOfParam(DELIVERY_STATUSES, 'Only deliveries in this state (FAILED: given up, redeliver them)')
  deliveryStatus?: DeliveryStatus;

  @TextParam('Only deliveries to this endpoint (one of EVENT_WEBHOOK_URLS, exactly)', 2048)
  endpoint?: string;
}
