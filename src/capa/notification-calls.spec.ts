import { classifyVerificationResponse } from './verification-call';
import { listNotificationsCall, notificationDetailCall, readPage, retryNotificationCall } from './notification-calls';

const item = { id: 'n-1', status: 'FAILED', eventType: 'VERIFIED_USER', retryAttempts: 6, manualRetryCount: 0, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: 'x' };
const summary = { id: 'n-1', status: 'FAILED', eventType: 'VERIFIED_USER', retryAttempts: 6, manualRetryCount: 0, createdAt: '2026-12-01T00:00:00.000Z' };

describe("reading Capa's webhook notification API", () => {
  it.each([
    ['data.data (the reference)', { success: true, data: { count: 1, total: 7, data: [item] } }, 7],
    ['data.items', { success: true, data: { total: 7, items: [item] } }, 7],
    ['data as the array', { success: true, data: [item] }, null],
  ])('reads the list from %s', (_name, body, total) => {
    expect(readPage(body)).toEqual({ total, items: [summary] });
  });

  it('skips items without an id and reads missing fields as null; no array is unreadable', () => {
    expect(readPage({ data: { data: [{ status: 'FAILED' }, { id: 5 }] } })).toEqual({
      total: null,
      items: [{ id: '5', status: null, eventType: null, retryAttempts: null, manualRetryCount: null, createdAt: null }],
    });
    expect(classifyVerificationResponse(listNotificationsCall('FAILED', 0, 100), 200, {}, { data: {} }).kind).toBe('unreadable');
  });

  it('builds the documented paths, limit capped at 100', () => {
    expect(listNotificationsCall('FAILED', 200, 500).path).toBe('/api/partner/v2/webhook-notifications?status=FAILED&skip=200&limit=100');
    expect(notificationDetailCall('a/b').path).toBe('/api/partner/v2/webhook-notifications/a%2Fb');
    expect(retryNotificationCall('n-1')).toMatchObject({ method: 'POST', path: '/api/partner/v2/webhook-notifications/n-1/retry' });
  });

  it('the detail needs a payload (any JSON value); 404, 409 are rejections, 429 transient, 401 misconfigured', () => {
    const detail = notificationDetailCall('n-1');
    expect(classifyVerificationResponse(detail, 200, {}, { success: true, data: { ...item, payload: { type: 'KYC' } } })).toEqual({
      kind: 'answered',
      httpStatus: 200,
      value: { ...summary, payload: { type: 'KYC' } },
    });
    expect(classifyVerificationResponse(detail, 200, {}, { success: true, data: item }).kind).toBe('unreadable');
    const retry = retryNotificationCall('n-1');
    expect([404, 409, 429, 401, 503].map((status) => classifyVerificationResponse(retry, status, {}, {}).kind)).toEqual([
      'rejected',
      'rejected',
      'transient',
      'misconfigured',
      'transient',
    ]);
  });
});
