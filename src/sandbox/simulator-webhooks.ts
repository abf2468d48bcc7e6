import { createHmac, randomUUID } from 'node:crypto';

/** Capa retries a failed delivery immediately, then after 1, 5, 10 and 15 minutes (~31 minutes), then marks it FAILED. */
export const CAPA_WEBHOOK_RETRY_DELAYS_MS = [0, 60_000, 300_000, 600_000, 900_000] as const;

export interface WebhookSettings {
  /** Where deliveries go (Capa: one URL per partner, set with PUT /api/partner/v2/webhook-settings). */
  url?: string | null;
  /** The partner's webhook secret: lower-case hex HMAC-SHA256 in `capa-signature`. */
  secret?: string;
  /** Multiplies Capa's retry delays: 1 is Capa's real schedule, 0.001 turns 31 minutes into ~2 seconds. */
  retryScale?: number;
}

/**
 * How the body is written and signed. `compact`: JSON.stringify(payload), signed as sent. `pretty`: sent indented
 * but signed as JSON.stringify(payload), as Capa's own sample signs (the reading the receiver must also accept).
 */
export type WebhookFormat = 'compact' | 'pretty';

export interface WebhookNotification {
  id: string;
  payload: unknown;
  format: WebhookFormat;
  status: 'PENDING' | 'SENT' | 'FAILED';
  attempts: Array<{ at: string; httpStatus: number | null; error?: string }>;
}

/** The simulator's webhook sender: signs like Capa, delivers to one URL, retries on Capa's schedule (scalable). */
export class SimulatorWebhooks {
  private settings: Required<Omit<WebhookSettings, 'url'>> & { url: string | null };
  private readonly notifications: WebhookNotification[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(settings: WebhookSettings = {}) {
    this.settings = { url: settings.url ?? null, secret: settings.secret ?? 'sandbox-webhook-secret', retryScale: settings.retryScale ?? 1 };
  }

  configure(settings: WebhookSettings): void {
    this.settings = {
      url: settings.url !== undefined ? settings.url : this.settings.url,
      secret: settings.secret ?? this.settings.secret,
      retryScale: settings.retryScale ?? this.settings.retryScale,
    };
  }

  get url(): string | null {
    return this.settings.url;
  }

  /** Queues one notification and makes its first attempt at once; answers it (its later attempts update it). */
  send(payload: unknown, format: WebhookFormat = 'compact'): WebhookNotification {
    const notification: WebhookNotification = { id: randomUUID(), payload, format, status: 'PENDING', attempts: [] };
    this.notifications.push(notification);
    this.schedule(notification, 0);
    return notification;
  }

  list(): WebhookNotification[] {
    return this.notifications.map((notification) => ({ ...notification, attempts: [...notification.attempts] }));
  }

  /** Resolves once no notification is PENDING (or after timeoutMs). */
  async settled(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.notifications.some((notification) => notification.status === 'PENDING') && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 10).unref());
    }
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  reset(): void {
    this.stop();
    this.notifications.length = 0;
  }

  private schedule(notification: WebhookNotification, attempt: number): void {
    const delayMs = attempt === 0 ? 0 : CAPA_WEBHOOK_RETRY_DELAYS_MS[attempt - 1] * this.settings.retryScale;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(notification, attempt);
    }, delayMs).unref();
    this.timers.add(timer);
  }

  private async deliver(notification: WebhookNotification, attempt: number): Promise<void> {
    const compact = JSON.stringify(notification.payload);
    const body = notification.format === 'pretty' ? JSON.stringify(notification.payload, null, 2) : compact;
    const signature = createHmac('sha256', this.settings.secret).update(compact).digest('hex');
    let httpStatus: number | null = null;
    let error: string | undefined;
    if (this.settings.url === null) {
      error = 'no webhook URL configured';
    } else {
      try {
        const response = await fetch(this.settings.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'capa-signature': signature },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        httpStatus = response.status;
        await response.arrayBuffer();
      } catch (caught) {
        error = caught instanceof Error ? caught.message : String(caught);
      }
    }
    notification.attempts.push({ at: new Date().toISOString(), httpStatus, ...(error !== undefined ? { error } : {}) });
    if (httpStatus !== null && httpStatus >= 200 && httpStatus < 300) {
      notification.status = 'SENT';
    } else if (attempt < CAPA_WEBHOOK_RETRY_DELAYS_MS.length) {
      this.schedule(notification, attempt + 1);
    } else {
      notification.status = 'FAILED';
    }
  }
}
