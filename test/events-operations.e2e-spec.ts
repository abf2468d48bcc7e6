import { randomUUID } from 'node:crypto';
import { EventRetention } from '../src/events/event-retention';
import { usePushingApp } from './support/event-push';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ADMIN_TOKEN, TestResponse, uniqueId } from './support/test-app';

const SECRET = newWebhookSecret();

describe('event deliveries for operators: list, redeliver, stats, metrics, retention', () => {
  const receiver = new EventReceiver(SECRET);
  receiver.failing = true;
  const { service } = usePushingApp([receiver], { EVENT_RETRY_BASE_MS: '50', EVENT_RETRY_MAX_MS: '200', EVENT_RETRY_WINDOW_MS: '3000', EVENT_DELIVERY_INTERVAL_MS: '50' });

  const admin = (method: string, path: string): Promise<TestResponse> => service.call(method, path, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
  const signup = async () => (await service.call('POST', '/v1/users', { externalUserId: uniqueId('ops') })).body.externalUserId as string;

  it('shows the backlog and lag while an endpoint fails, FAILED after the retry window, and a redelivery reaches it', async () => {
    const first = await signup();
    const second = await signup();
    expect(await eventually(async () => (await admin('GET', '/admin/stats')).body.events.backlog >= 1, 3000, 20)).toBe(true);
    const owing = (await admin('GET', '/admin/stats')).body.events;
    expect(owing.oldestUndeliveredAt).toEqual(expect.any(String));
    expect(owing.lagSeconds).toBeGreaterThan(0);

    expect(await eventually(async () => (await admin('GET', '/admin/events?deliveryStatus=FAILED')).body.items.length === 2, 15_000)).toBe(true);
    const failed = await admin('GET', '/admin/events?deliveryStatus=FAILED');
    expect(failed.body.items.map((item: { externalUserId: string }) => item.externalUserId).sort()).toEqual([first, second].sort());
    expect(failed.body.items[0]).toMatchObject({ endpoint: receiver.url, status: 'FAILED', lastError: 'HTTP 500', nextAttemptAt: null, deliveredAt: null });
    expect(failed.body.items[0].attempts).toBeGreaterThan(1);

    // Filters and pages.
    expect((await admin('GET', `/admin/events?endpoint=${encodeURIComponent('http://elsewhere/x')}`)).body.items).toEqual([]);
    expect((await admin('GET', `/admin/events?endpoint=${encodeURIComponent(receiver.url)}`)).body.items).toHaveLength(2);
    const page1 = await admin('GET', '/admin/events?limit=1');
    const page2 = await admin('GET', `/admin/events?limit=1&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items[0].deliveryId).not.toBe(page1.body.items[0].deliveryId);
    expect(page2.body.nextCursor).toBeNull();

    const stats = (await admin('GET', '/admin/stats')).body;
    expect(stats).toMatchObject({ total: expect.any(Number), byStatus: expect.any(Object), capa: expect.any(Object) });
    expect(stats.events).toMatchObject({ backlog: 0, failed: 2, lagSeconds: 0, oldestUndeliveredAt: null });
    expect(stats.events.endpoints).toEqual([{ endpoint: receiver.url, pending: 0, delivered: 0, failed: 2, backlog: 0, oldestUndeliveredAt: null }]);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain(`event_deliveries_failed{endpoint="${receiver.url}"} 2`);
    expect(metrics).toMatch(/^event_delivery_lag_seconds \d/m);
    expect(metrics).toContain(`event_delivery_backlog{endpoint="${receiver.url}"} 0`);

    receiver.failing = false;
    const eventId = failed.body.items[0].eventId;
    const redelivered = await admin('POST', `/admin/events/${eventId}/redeliver`);
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toEqual({ eventId, deliveries: [expect.objectContaining({ endpoint: receiver.url, status: 'PENDING' })] });
    expect(await eventually(() => receiver.ids().includes(eventId))).toBe(true);
    expect(await eventually(async () => (await admin('GET', '/admin/events?deliveryStatus=DELIVERED')).body.items.length === 1)).toBe(true);
    // Only the redelivered one: the other stays FAILED.
    expect((await admin('GET', '/admin/events?deliveryStatus=FAILED')).body.items).toHaveLength(1);
  }, 60_000);

  it.each([
    ['an unknown event', `/admin/events/${randomUUID()}/redeliver`, 404, 'NOT_FOUND'],
    ['an id that is not a UUID', '/admin/events/not-a-uuid/redeliver', 400, 'VALIDATION_FAILED'],
  ])('redeliver of %s', async (_name, path, status, code) => {
    const response = await admin('POST', path);
    expect(response.status).toBe(status);
    expect(response.body.code).toBe(code);
  });

  it.each([
    ['a bad deliveryStatus', 'deliveryStatus=LOST'],
    ['a bad cursor', 'cursor=xyz'],
    ['limit 101', 'limit=101'],
  ])('list with %s -> 400', async (_name, query) => {
    expect((await admin('GET', `/admin/events?${query}`)).status).toBe(400);
  });

  it('needs the admin token', async () => {
    expect((await service.call('GET', '/admin/events')).status).toBe(401);
    expect((await service.call('POST', `/admin/events/${randomUUID()}/redeliver`)).status).toBe(401);
  });

  it('retention prunes delivered events older than EVENT_RETENTION_DAYS, never an undelivered or a recent one', async () => {
    const seed = async (name: string, ageDays: number, status: 'DELIVERED' | 'FAILED' | 'PENDING') => {
      const { rows } = await service.query(
        `WITH event AS (
           INSERT INTO outbox_events (type, external_user_id, data, occurred_at)
           VALUES ('signup.created', $1, '{}', now() - $2::int * interval '1 day') RETURNING id
         ), delivery AS (
           INSERT INTO event_deliveries (event_id, endpoint, status, give_up_at, next_attempt_at)
           SELECT id, $3, $4, now() + interval '1 day', now() + interval '1 day' FROM event
         )
         SELECT id FROM event`,
        [name, ageDays, receiver.url, status],
      );
      return rows[0].id as string;
    };
    const oldDelivered = await seed(uniqueId('old-delivered'), 31, 'DELIVERED');
    const oldFailed = await seed(uniqueId('old-failed'), 40, 'FAILED');
    const oldPending = await seed(uniqueId('old-pending'), 40, 'PENDING');
    const recentDelivered = await seed(uniqueId('recent-delivered'), 29, 'DELIVERED');
    // Let the deliverer move its cursor past the seeded events (it finds their deliveries already there).
    const scheduled = async () =>
      (await service.query(
        `SELECT count(*)::int AS n FROM outbox_events e, event_endpoints ep
         WHERE e.id = ANY($1::uuid[]) AND (e.writer_xid, e.position) > (ep.cursor_xid, ep.cursor_position)`,
        [[oldDelivered, oldFailed, oldPending, recentDelivered]],
      )).rows[0].n === 0;
    expect(await eventually(scheduled)).toBe(true);

    expect(await service.app.get(EventRetention).pruneOnce()).toBe(1);
    const { rows } = await service.query('SELECT id FROM outbox_events WHERE id = ANY($1::uuid[])', [[oldDelivered, oldFailed, oldPending, recentDelivered]]);
    expect(rows.map((row) => row.id).sort()).toEqual([oldFailed, oldPending, recentDelivered].sort());
    const { rows: orphans } = await service.query('SELECT count(*)::int AS n FROM event_deliveries WHERE event_id = $1', [oldDelivered]);
    expect(orphans[0].n).toBe(0);
  });
});

describe('redelivering an event while it is being sent', () => {
  // Two replicas: the one holding the send waits for it, the other would claim a delivery whose lease was let go.
  const receiver = new EventReceiver(SECRET);
  receiver.holding = true;
  const { service } = usePushingApp([receiver], { EVENT_WEBHOOK_TIMEOUT_MS: '20000', EVENT_DELIVERY_INTERVAL_MS: '50' }, { replica: true });

  it('keeps the send in flight: no replica sends the event to the endpoint a second time at once', async () => {
    const externalUserId = uniqueId('in-flight');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const { rows } = await service.query(`SELECT id::text FROM outbox_events WHERE external_user_id = $1`, [externalUserId]);
    const eventId = rows[0].id as string;
    expect(await eventually(() => receiver.held.includes(eventId), 10_000)).toBe(true);

    const redelivered = await service.call('POST', `/admin/events/${eventId}/redeliver`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(redelivered.status).toBe(200);
    expect(redelivered.body.deliveries).toEqual([expect.objectContaining({ endpoint: receiver.url, status: 'PENDING' })]);

    // Many delivery passes of both replicas later, still the one send that was in flight when the operator asked.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.held.filter((id) => id === eventId)).toEqual([eventId]);
  }, 30_000);
});
