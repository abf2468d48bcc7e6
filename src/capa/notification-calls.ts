import type { VerificationCall } from './verification-call';

/** Which notification endpoint a call named (changelog 2026-04-19, `webhooknotificationpartnerv2controller_*`). */
export type NotificationOperation = 'notifications-list' | 'notification-detail' | 'notification-retry';

/** One call to Capa's webhook notification API: how to make it and how to read its 2xx answer. */
export type NotificationCall<T> = Omit<VerificationCall<T>, 'operation'> & { operation: NotificationOperation };

export const NOTIFICATIONS_PATH = '/api/partner/v2/webhook-notifications';
/** Capa's list endpoints take `limit` 1..100. */
export const MAX_NOTIFICATIONS_PAGE = 100;

/** A notification as Capa's list shows it (no payload). */
export interface NotificationSummary {
  id: string;
  status: string | null;
  eventType: string | null;
  retryAttempts: number | null;
  manualRetryCount: number | null;
  createdAt: string | null;
}

/** One page of the list: `total` as Capa counts all matching notifications (null when it did not say). */
export interface NotificationPage {
  total: number | null;
  items: NotificationSummary[];
}

/** A notification's detail: what the webhook carried (`payload`), present (it may be any JSON value). */
export interface NotificationDetail extends NotificationSummary {
  payload: unknown;
}

export function listNotificationsCall(status: string, skip: number, limit: number): NotificationCall<NotificationPage> {
  const query = new URLSearchParams({ status, skip: String(skip), limit: String(Math.min(limit, MAX_NOTIFICATIONS_PAGE)) });
  return {
    operation: 'notifications-list',
    method: 'GET',
    path: `${NOTIFICATIONS_PATH}?${query.toString()}`,
    maxResponseBytes: 4 * 1024 * 1024,
    read: readPage,
  };
}

export function notificationDetailCall(id: string): NotificationCall<NotificationDetail> {
  return {
    operation: 'notification-detail',
    method: 'GET',
    path: `${NOTIFICATIONS_PATH}/${encodeURIComponent(id)}`,
    maxResponseBytes: 1024 * 1024,
    read: (body) => {
      const data = record(record(body)?.data) ?? record(body);
      const summary = data === undefined ? undefined : readSummary(data);
      if (summary === undefined || data === undefined || !Object.hasOwn(data, 'payload')) return undefined;
      return { ...summary, payload: data.payload };
    },
  };
}

/** A manual retry: any 2xx is Capa accepting it (the notification is PENDING again). */
export function retryNotificationCall(id: string): NotificationCall<true> {
  return {
    operation: 'notification-retry',
    method: 'POST',
    path: `${NOTIFICATIONS_PATH}/${encodeURIComponent(id)}/retry`,
    maxResponseBytes: 64 * 1024,
    read: () => true,
  };
}

/** The array may be `data.data`, `data.items` or `data` itself (Capa's reference and its other lists differ). */
export function readPage(body: unknown): NotificationPage | undefined {
  const data = record(body)?.data;
  const nested = record(data);
  const array = Array.isArray(nested?.data) ? nested.data : Array.isArray(nested?.items) ? nested.items : Array.isArray(data) ? data : undefined;
  if (array === undefined) return undefined;
  const items = array.flatMap((item) => {
    const summary = record(item) === undefined ? undefined : readSummary(record(item)!);
    return summary === undefined ? [] : [summary];
  });
  const total = nested?.total;
  return { total: typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : null, items };
}

function readSummary(item: Record<string, unknown>): NotificationSummary | undefined {
  const id = typeof item.id === 'number' ? String(item.id) : item.id;
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) return undefined;
  return {
    id,
    status: text(item.status),
    eventType: text(item.eventType),
    retryAttempts: count(item.retryAttempts),
    manualRetryCount: count(item.manualRetryCount),
    createdAt: text(item.createdAt),
  };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 200) : null;
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : null;
}
