import { setMaxListeners } from 'node:events';
import { Webhook } from 'standardwebhooks';
import type { Pool } from 'undici';
import type { EventView } from './event.types';
import { AttemptResult, resultOfError, resultOfStatus } from './delivery-policy';
import { tracing } from '../tracing/tracing';

/**
 * POSTs one event to one endpoint, signed per the Standard Webhooks spec: webhook-id is the event's id (receivers
 * dedupe on it), webhook-timestamp the send time, webhook-signature `v1,<HMAC-SHA256>` by the standardwebhooks package.
 * One undici Pool of keep-alive connections per endpoint URL (endpoints on one host do not share sockets, so a slow one
 * holds only its own): a third of fetch()'s CPU per request (no WHATWG Request/Response/stream objects), which is most
 * of what a delivery costs this process.
 */
export class WebhookSender {
  private readonly webhook: Webhook;
  private readonly endpoints = new Map<string, { pool: Pool; path: string }>();

  /** `connections`: per endpoint, as many as the deliverer sends to it at once, so no attempt waits for a socket. */
  constructor(
    secret: string,
    private readonly timeoutMs: number,
    private readonly connections: number,
  ) {
    this.webhook = new Webhook(secret);
  }

  /**
   * Sends a pass's events to one endpoint at once, all with one send time and one deadline, and answers each one's
   * result in their order. The deadline is `timeoutMs` from now, or sooner when the caller's leases leave less
   * (`withinMs`); it is set before anything is dispatched, so it bounds the whole send: a wait for one of the pool's
   * sockets, connecting, the request and the answer. With no time left nothing is sent.
   */
  async sendAll(url: string, events: readonly EventView[], withinMs = this.timeoutMs, causes?: ReadonlyArray<string | null>): Promise<AttemptResult[]> {
    const budgetMs = Math.min(this.timeoutMs, Math.floor(withinMs));
    if (budgetMs <= 0) return events.map(() => ({ acknowledged: false, error: 'not sent: its lease ran out before the send (claiming took too long)' }));
    const deadline = new AbortController();
    setMaxListeners(events.length + 1, deadline.signal);
    // One timer per pass, cleared when the pass is done, rather than one AbortSignal.timeout() per attempt.
    const timer = setTimeout(() => deadline.abort(new DOMException(`no answer within ${budgetMs} ms`, 'TimeoutError')), budgetMs);
    try {
      const sentAt = new Date();
      return await Promise.all(
        events.map((event, index) =>
          // With tracing on, each push is a span of its own linked to the trace that wrote the event (`causes`); the
          // POST carries its traceparent, so the receiver continues the trace.
          tracing.inDrive({ name: 'event delivery', causedBy: causes?.[index], attributes: { 'event.type': event.type, 'event.id': event.id } }, () =>
            this.send(url, event, sentAt, deadline.signal, budgetMs),
          ),
        ),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async send(url: string, event: EventView, sentAt: Date, signal: AbortSignal, budgetMs: number): Promise<AttemptResult> {
    const body = JSON.stringify(event);
    try {
      const { pool, path } = this.endpoint(url);
      const response = await pool.request({
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': this.webhook.sign(event.id, sentAt, body),
        },
        body,
        // The whole attempt, connecting included; a redirect is not followed (undici's request never follows one).
        signal,
      });
      // The answer's body is not read, only drained, so the connection is reused.
      await response.body.dump().catch(() => undefined);
      return resultOfStatus(response.statusCode);
    } catch (error) {
      return resultOfError(error, budgetMs);
    }
  }

  /** Closes the connections at shutdown; a send still in flight then fails (its lease was released already). */
  async destroy(): Promise<void> {
    const pools = [...this.endpoints.values()].map(({ pool }) => pool);
    this.endpoints.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }

  /** The endpoint's pool and request path; a URL with credentials is refused, as fetch() refused it. */
  private endpoint(url: string): { pool: Pool; path: string } {
    let endpoint = this.endpoints.get(url);
    if (endpoint === undefined) {
      const parsed = new URL(url);
      if (parsed.username !== '' || parsed.password !== '') throw new TypeError('An endpoint URL with credentials cannot be requested');
      // undici (~85 ms and ~25 MB to load) only once there is an endpoint to push to.
      const { Pool: UndiciPool } = require('undici') as typeof import('undici');
      endpoint = { pool: new UndiciPool(parsed.origin, { connections: this.connections }), path: `${parsed.pathname}${parsed.search}` };
      this.endpoints.set(url, endpoint);
    }
    return endpoint;
  }
}
