import { ApiError, NotFoundError } from '../common/api-error';

export class InvalidSignatureError extends ApiError {
  constructor() {
    super(401, 'INVALID_SIGNATURE', 'The capa-signature header is missing or does not sign this body');
  }
}

export class WebhooksOffError extends NotFoundError {
  constructor() {
    super('Capa webhooks are not configured here (CAPA_WEBHOOK_SECRETS is not set)');
  }
}
