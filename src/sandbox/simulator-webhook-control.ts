import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJson, readBody, sendJson } from './simulator-http';
import type { NotificationApiSettings, RetryCall } from './simulator-notifications';
import type { VerificationSettings } from './simulator-verification';
import type { WebhookFormat, WebhookNotification, WebhookSettings } from './simulator-webhooks';

const KYC_PREFIX = '/__sim/kyc/';
const TRANSACTION_PREFIX = '/__sim/transactions/';
const MAX_BODY_BYTES = 64 * 1024;

/** The part of the simulator the webhook control routes drive. */
export interface WebhookControlTarget {
  sendKycEvent(externalUserId: string, event: string, format?: WebhookFormat): WebhookNotification;
  sendWebhook(payload: unknown, format?: WebhookFormat): WebhookNotification;
  webhookNotifications(): WebhookNotification[];
  configureWebhooks(settings: WebhookSettings & VerificationSettings & NotificationApiSettings): void;
  readonly notifications: { retryCalls(): RetryCall[] };
}

/**
 * `POST /__sim/kyc/{externalUserId}` `{event, format?}`: Capa's KYC webhook for that user (e.g. VERIFIED_USER).
 * `POST /__sim/transactions/{externalUserId}` `{event, ...fields}`: a TRANSACTION webhook.
 * `POST /__sim/webhooks` `{payload, format?}`: any payload, signed and sent as it is.
 * `GET /__sim/webhooks`: every notification with its attempts; `GET /__sim/notification-retries`: every manual retry
 * call with its answer. `POST /__sim/webhook-settings` `{url?, secret?, retryScale?, templateMissing?, notificationApi?}`. Answers false when the request is none of these.
 */
export async function handleWebhookControl(target: WebhookControlTarget, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method === 'GET' && path === '/__sim/webhooks') {
    sendJson(res, 200, { items: target.webhookNotifications() });
    return true;
  }
  if (req.method === 'GET' && path === '/__sim/notification-retries') {
    sendJson(res, 200, { items: target.notifications.retryCalls() });
    return true;
  }
  if (req.method !== 'POST') return false;
  const isKyc = path.startsWith(KYC_PREFIX);
  const isTransaction = path.startsWith(TRANSACTION_PREFIX);
  if (!isKyc && !isTransaction && path !== '/__sim/webhooks' && path !== '/__sim/webhook-settings') return false;

  const body = await readBody(req, MAX_BODY_BYTES);
  if (body.outcome !== 'complete') return sendJson(res, 413, { message: 'Body too large or aborted' }), true;
  const json = body.text === '' ? { ok: true as const, value: {} } : parseJson(body.text);
  if (!json.ok || typeof json.value !== 'object' || json.value === null || Array.isArray(json.value)) {
    return sendJson(res, 400, { message: 'Body must be a JSON object' }), true;
  }
  const fields = json.value as Record<string, unknown>;
  const format = fields.format === 'pretty' ? 'pretty' : 'compact';
  if (path === '/__sim/webhook-settings') {
    target.configureWebhooks(fields as WebhookSettings & VerificationSettings & NotificationApiSettings);
    sendJson(res, 200, { status: 'ok' });
  } else if (path === '/__sim/webhooks') {
    sendJson(res, 202, target.sendWebhook(fields.payload, format));
  } else {
    const externalUserId = decodeURIComponent(path.slice((isKyc ? KYC_PREFIX : TRANSACTION_PREFIX).length));
    if (typeof fields.event !== 'string' || fields.event === '') return sendJson(res, 400, { message: 'event is required' }), true;
    if (isKyc) {
      sendJson(res, 202, target.sendKycEvent(externalUserId, fields.event, format));
    } else {
      const { format: _format, ...rest } = fields;
      sendJson(res, 202, target.sendWebhook({ type: 'TRANSACTION', ...rest, externalUserId }, format));
    }
  }
  return true;
}
