import { freePort } from './support/service-process';
import { usePushingApp } from './support/event-push';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { uniqueId } from './support/test-app';

const SECRET = newWebhookSecret();

describe('event webhooks: signed push to every endpoint', () => {
  const healthy = new EventReceiver(SECRET);
  const flaky = new EventReceiver(SECRET, { failFirst: 2 });
  const hanging = new EventReceiver(SECRET, { hang: true });
  let closedPort: string;
  // A port nobody listens on.
  const closed = async () => (closedPort = `http://127.0.0.1:${await freePort()}/events`);
  const env = { EVENT_WEBHOOK_TIMEOUT_MS: '5000', EVENT_RETRY_BASE_MS: '50', EVENT_RETRY_MAX_MS: '200', EVENT_DELIVERY_INTERVAL_MS: '50' };
  const { service } = usePushingApp([healthy, flaky, hanging, closed], env);

  it('delivers every event to both working receivers, signed; the flaky one after its failed tries; dead endpoints slow nobody', async () => {
    const started = Date.now();
    const signups = [];
    for (let index = 0; index < 20; index++) {
      const begun = Date.now();
      const response = await service.call('POST', '/v1/users', { externalUserId: uniqueId('push') });
      expect(response.status).toBe(201);
      signups.push({ userId: response.body.userId as string, ms: Date.now() - begun });
    }
    // POST /v1/users never waits on an endpoint (a hanging one holds a send for 5 s).
    expect(Math.max(...signups.map((signup) => signup.ms))).toBeLessThan(1500);

    const { rows } = await service.query<{ id: string }>("SELECT id FROM outbox_events WHERE type = 'signup.created'");
    const expected = rows.map((row) => row.id).sort();
    expect(expected).toHaveLength(20);
    await eventually(() => healthy.delivered.length >= 20 && flaky.delivered.length >= 20, 20_000);
    expect([...new Set(healthy.ids())].sort()).toEqual(expected);
    expect([...new Set(flaky.ids())].sort()).toEqual(expected);
    // The healthy endpoint was not held up by the hanging and the closed one (their attempts take up to 5 s each).
    expect(Math.max(...healthy.delivered.map((delivery) => delivery.at)) - started).toBeLessThan(4500);
    expect(healthy.rejectedSignatures).toEqual([]);
    expect(flaky.rejectedSignatures).toEqual([]);
    for (const id of expected) expect(flaky.attemptsById.get(id)).toBe(3);

    // The body is the event as the feed shows it, and webhook-id is its id.
    const feed = await service.call('GET', '/v1/events?limit=500&type=signup.created');
    const byId = new Map(healthy.delivered.map((delivery) => [delivery.id, delivery.body]));
    for (const item of feed.body.items) expect(byId.get(item.id)).toEqual(item);

    const { rows: states } = await service.query<{ endpoint: string; status: string; n: number }>(
      'SELECT endpoint, status, count(*)::int AS n FROM event_deliveries GROUP BY 1, 2 ORDER BY 1, 2',
    );
    expect(states).toEqual(
      expect.arrayContaining([
        { endpoint: healthy.url, status: 'DELIVERED', n: 20 },
        { endpoint: flaky.url, status: 'DELIVERED', n: 20 },
        { endpoint: closedPort, status: 'PENDING', n: 20 },
      ]),
    );
    const { rows: dead } = await service.query<{ last_error: string; attempts: number }>(
      'SELECT last_error, attempts FROM event_deliveries WHERE endpoint = $1 AND attempts > 0 LIMIT 1',
      [closedPort],
    );
    expect(dead[0]?.last_error).toMatch(/connection failed/);
  }, 60_000);
});
