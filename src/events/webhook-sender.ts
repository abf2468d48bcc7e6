import { Webhook } from 'standardwebhooks';
import type { EventView } from './event.types';
import { AttemptResult, resultOfError, resultOfStatus } from './delivery-policy';

/**
 * POSTs one event to one endpoint, signed per the Standard Webhooks spec: webhook-id is the event's id (receivers
 * dedupe on it), webhook-timestamp the send time, webhook-signature `v1,<HMAC-SHA256>` by the standardwebhooks package.
 */
export class WebhookSender {
  private readonly webhook: Webhook;

  constructor(
    secret: string,
    private readonly timeoutMs: number,
  ) {
    this.webhook = new Webhook(secret);
  }

  async send(url: string, event: EventView): Promise<AttemptResult> {
    const body = JSON.stringify(event);
    const sentAt = new Date();
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': this.webhook.sign(event.id, sentAt, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The answer's body is not read, only released, so the connection is reused.
      await response.body?.cancel().catch(() => undefined);
      return resultOfStatus(response.status);
    } catch (error) {
      return resultOfError(error, this.timeoutMs);
    }
  }
}
