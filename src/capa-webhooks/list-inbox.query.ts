import { INBOX_OUTCOMES } from './capa-webhook';
import type { InboxOutcome } from './capa-webhook';
import { INBOX_SOURCES, type InboxSource } from './webhook-inbox.repository';
import { PageQuery } from '../common/page-query';
import { OneOfParam, TextParam } from '../common/query-params';

/** `GET /admin/webhooks` query. */
export class ListInboxQuery extends PageQuery {
  @OneOfParam(INBOX_OUTCOMES, 'Only deliveries with this outcome')
  outcome?: InboxOutcome;

  @OneOfParam(INBOX_SOURCES, 'Only entries from this source (a signed delivery, or reconciled)')
  source?: InboxSource;

  @TextParam('An exact externalUserId, SHA-256 of a body, or event name', 256)
  search?: string;
}
