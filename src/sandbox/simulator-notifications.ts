import type { IncomingMessage } from 'node:http';
import type { Outcome } from './simulator-answers';
import type { Rejection } from './simulator-validation';
import type { NotificationStatus, SimulatorWebhooks, WebhookNotification } from './simulator-webhooks';

const LIST_PATH = '/api/partner/v2/webhook-notifications';
const ITEM_PATH = /^\/api\/partner\/v2\/webhook-notifications\/([^/]+)$/;
const RETRY_PATH = /^\/api\/partner\/v2\/webhook-notifications\/([^/]+)\/retry$/;
const STATUSES: readonly NotificationStatus[] = ['PENDING', 'SENT', 'FAILED', 'NOT_SENT'];
/** Capa: at most 10 manual retries per partner per minute, else 429 (no Retry-After documented). */
export const RETRY_CALLS_PER_MINUTE = 10;
const MINUTE_MS = 60_000;

export interface NotificationApiSettings {
  /** False: the endpoints answer 404, as a Capa without the 2026-04-19 notification API would. */
  notificationApi?: boolean;
}

/** One retry call as the simulator saw it (for tests of the caps). */
export interface RetryCall {
  at: number;
  id: string;
  status: number;
}

export type NotificationAnswer = Outcome | { rejection: Rejection };

/**
 * Capa's webhook notification API (changelog 2026-04-19): list (newest first, skip/limit, status filter), detail with
 * the payload, and the manual retry with Capa's caps (409 unless FAILED or past 3 retries, 429 past 10 a minute).
 */
export class SimulatorNotifications {
  private enabled = true;
  private readonly calls: RetryCall[] = [];

  constructor(private readonly webhooks: SimulatorWebhooks) {}

  configure(settings: NotificationApiSettings): void {
    if (settings.notificationApi !== undefined) this.enabled = settings.notificationApi;
  }

  matches(method: string | undefined, path: string): boolean {
    if (method === 'GET') return path === LIST_PATH || ITEM_PATH.test(path);
    return method === 'POST' && RETRY_PATH.test(path);
  }

  /** Every retry call answered so far, oldest first. */
  retryCalls(): RetryCall[] {
    return [...this.calls];
  }

  reset(): void {
    this.calls.length = 0;
    this.enabled = true;
  }

  handle(req: IncomingMessage, path: string, query: URLSearchParams): NotificationAnswer {
    if (!this.enabled) return notFound(`Cannot ${req.method} ${path}`);
    if (req.method === 'GET' && path === LIST_PATH) return this.list(query);
    const retry = RETRY_PATH.exec(path);
    if (retry !== null) return this.retry(decodeURIComponent(retry[1]));
    const item = ITEM_PATH.exec(path);
    const notification = item === null ? undefined : this.webhooks.find(decodeURIComponent(item[1]));
    if (notification === undefined) return notFound('Webhook notification not found');
    return { status: 200, body: { success: true, data: detailOf(notification) } };
  }

  private list(query: URLSearchParams): NotificationAnswer {
    const status = query.get('status');
    const skip = integer(query.get('skip'), 0);
    const limit = integer(query.get('limit'), 20);
    if (status !== null && !STATUSES.includes(status as NotificationStatus)) return badRequest(`status must be one of ${STATUSES.join(', ')}`);
    if (skip === undefined || skip < 0) return badRequest('skip must be a non-negative integer');
    if (limit === undefined || limit < 1 || limit > 100) return badRequest('limit must be between 1 and 100');
    const matching = this.webhooks
      .list()
      .filter((notification) => status === null || notification.status === status)
      .reverse();
    const page = matching.slice(skip, skip + limit).map(summaryOf);
    return { status: 200, body: { success: true, data: { count: page.length, total: matching.length, data: page } } };
  }

  private retry(id: string): NotificationAnswer {
    const now = Date.now();
    const recent = this.calls.filter((call) => call.at > now - MINUTE_MS).length;
    const answer = recent >= RETRY_CALLS_PER_MINUTE ? 'rate-limited' : this.webhooks.retry(id);
    const outcome: NotificationAnswer =
      answer === 'accepted'
        ? { status: 201, body: { success: true, data: summaryOf(this.webhooks.find(id)!) } }
        : answer === 'rate-limited'
          ? { rejection: { status: 429, code: 'TOO_MANY_REQUESTS', message: 'Too many manual retries; at most 10 per minute' } }
          : answer === 'not-found'
            ? notFound('Webhook notification not found')
            : answer === 'not-failed'
              ? conflict('Only a FAILED notification can be retried')
              : conflict('This notification was already retried 3 times');
    this.calls.push({ at: now, id, status: 'rejection' in outcome ? outcome.rejection.status : outcome.status });
    return outcome;
  }
}

function summaryOf(notification: WebhookNotification): Record<string, unknown> {
  const { id, status, eventType, retryAttempts, manualRetryCount, createdAt, updatedAt } = notification;
  return { id, status, eventType, retryAttempts, manualRetryCount, createdAt, updatedAt };
}

function detailOf(notification: WebhookNotification): Record<string, unknown> {
  const last = notification.attempts.at(-1);
  const latestErrorPayload = last === undefined || last.error === undefined && last.httpStatus !== null && last.httpStatus < 300 ? null : { httpStatus: last.httpStatus, error: last.error ?? null };
  return { ...summaryOf(notification), payload: notification.payload, latestErrorPayload, lastManualRetryAt: notification.lastManualRetryAt, version: notification.retryAttempts + notification.manualRetryCount };
}

function integer(raw: string | null, fallback: number): number | undefined {
  if (raw === null || raw === '') return fallback;
  return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
}

function notFound(message: string): NotificationAnswer {
  return { rejection: { status: 404, code: 'NOT_FOUND', message } };
}

function conflict(message: string): NotificationAnswer {
  return { rejection: { status: 409, code: 'CONFLICT', message } };
}

function badRequest(message: string): NotificationAnswer {
  return { rejection: { status: 400, code: 'BAD_REQUEST', message } };
}
