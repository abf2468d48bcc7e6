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

/** Capa's notification statuses: NOT_SENT when no webhook URL was configured as the event happened (never delivered). */
export type NotificationStatus = 'PENDING' | 'SENT' | 'FAILED' | 'NOT_SENT';

/** Capa's manual retries of one notification (POST .../webhook-notifications/{id}/retry): at most this many. */
export const MAX_MANUAL_RETRIES = 3;

export interface WebhookNotification {
  id: string;
  payload: unknown;
  format: WebhookFormat;
  status: NotificationStatus;
  /** The event's name (`event`, or `type` when it has none), as Capa's list shows it. */
  eventType: string | null;
  /** Delivery attempts so far, all cycles together. */
  retryAttempts: number;
  manualRetryCount: number;
  createdAt: string;
  updatedAt: string;
  lastManualRetryAt: string | null;
  attempts: Array<{ at: string; httpStatus: number | null; error?: string }>;
}

export type ManualRetryAnswer = 'accepted' | 'not-found' | 'not-failed' | 'too-many';

/** The simulator's webhook sender: signs like Capa, delivers to one URL, retries on Capa's schedule (scalable). */
export class SimulatorWebhooks {
  private settings: Required<Omit<WebhookSettings, 'url'>> & { url: string | null };
  private readonly notifications: WebhookNotification[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The latest createdAt handed out: each notification's is later, so Capa's creation order is never a tie. */
  private lastCreatedMs = 0;

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

  /**
   * Queues one notification and makes its first attempt at once; answers it (its later attempts update it). With no
   * URL configured it is NOT_SENT, as at Capa: never delivered, never retried.
   */
  send(payload: unknown, format: WebhookFormat = 'compact'): WebhookNotification {
    this.lastCreatedMs = Math.max(Date.now(), this.lastCreatedMs + 1);
    const createdAt = new Date(this.lastCreatedMs).toISOString();
    const notification: WebhookNotification = {
      id: randomUUID(),
      payload,
      format,
      status: this.settings.url === null ? 'NOT_SENT' : 'PENDING',
      eventType: eventTypeOf(payload),
      retryAttempts: 0,
      manualRetryCount: 0,
      createdAt,
      updatedAt: createdAt,
      lastManualRetryAt: null,
      attempts: [],
    };
    this.notifications.push(notification);
    if (notification.status === 'PENDING') this.schedule(notification, 0);
    return notification;
  }

  list(): WebhookNotification[] {
    return this.notifications.map((notification) => ({ ...notification, attempts: [...notification.attempts] }));
  }

  find(id: string): WebhookNotification | undefined {
    const notification = this.notifications.find((candidate) => candidate.id === id);
    return notification === undefined ? undefined : { ...notification, attempts: [...notification.attempts] };
  }

  /** Capa's manual retry: only a FAILED notification, at most 3 times; it is PENDING again with a fresh automatic cycle. */
  retry(id: string): ManualRetryAnswer {
    const notification = this.notifications.find((candidate) => candidate.id === id);
    if (notification === undefined) return 'not-found';
    if (notification.status !== 'FAILED') return 'not-failed';
    if (notification.manualRetryCount >= MAX_MANUAL_RETRIES) return 'too-many';
    notification.manualRetryCount += 1;
    notification.status = 'PENDING';
    notification.lastManualRetryAt = notification.updatedAt = new Date().toISOString();
    this.schedule(notification, 0);
    return 'accepted';
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
    const at = new Date().toISOString();
    notification.attempts.push({ at, httpStatus, ...(error !== undefined ? { error } : {}) });
    notification.retryAttempts += 1;
    notification.updatedAt = at;
    if (httpStatus !== null && httpStatus >= 200 && httpStatus < 300) {
      notification.status = 'SENT';
    } else if (attempt < CAPA_WEBHOOK_RETRY_DELAYS_MS.length) {
      this.schedule(notification, attempt + 1);
    } else {
      notification.status = 'FAILED';
    }
  }
}

function eventTypeOf(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { event, type } = payload as { event?: unknown; type?: unknown };
  return typeof event === 'string' ? event : typeof type === 'string' ? type : null;
}
