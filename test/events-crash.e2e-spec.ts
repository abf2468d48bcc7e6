import { Client } from 'pg';
import { eventually, newWebhookSecret, useEventReceiver } from './support/event-receiver';
import { useServiceCluster } from './support/service-cluster';
import { ServiceProcess } from './support/service-process';
import { request } from './support/test-app';

/** The compiled service as a child process: a SIGKILL between a signup's change and its delivery loses no event. */
describe('events survive SIGKILL (real child processes)', () => {
  const secret = newWebhookSecret();
  const cluster = useServiceCluster({
    databaseName: 'capa_events_crash',
    env: () => ({
      EVENT_WEBHOOK_URLS: receiver.url,
      EVENT_WEBHOOK_SECRET: secret,
      // The test receiver is plain http on loopback; outside the sandbox that needs saying.
      EVENT_WEBHOOK_ALLOW_HTTP: 'true',
      EVENT_RETRY_BASE_MS: '50',
      EVENT_RETRY_MAX_MS: '200',
      EVENT_DELIVERY_INTERVAL_MS: '50',
    }),
  });
  // Declared after the cluster: it stops once the processes are killed.
  const receiver = useEventReceiver(secret);
  const { start, stopAll } = cluster;

  async function eventIdOf(externalUserId: string): Promise<string | undefined> {
    const db = new Client({ connectionString: cluster.database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT id FROM outbox_events WHERE external_user_id = $1', [externalUserId]);
      return rows[0]?.id;
    } finally {
      await db.end();
    }
  }

  async function signup(service: ServiceProcess, externalUserId: string): Promise<string> {
    const response = await request(service.url, 'POST', '/v1/users', { externalUserId }, { authorization: 'Bearer inbound-token-a' });
    expect(response.status).toBe(201);
    const id = await eventIdOf(externalUserId);
    expect(id).toEqual(expect.any(String));
    return id!;
  }

  it('an event whose delivery was in progress, and one never scheduled, are both delivered after a restart', async () => {
    receiver.failing = true;
    // Killed while the delivery is being retried (the endpoint answered 503).
    const first = await start();
    const retried = await signup(first, `crash-retried-${Date.now()}`);
    expect(await eventually(() => (receiver.attemptsById.get(retried) ?? 0) > 0)).toBe(true);
    expect((await first.kill()).signal).toBe('SIGKILL');

    // Killed right after the change committed, before its deliverer's next pass.
    const second = await start({ EVENT_DELIVERY_INTERVAL_MS: '600000' });
    const unscheduled = await signup(second, `crash-unscheduled-${Date.now()}`);
    expect((await second.kill()).signal).toBe('SIGKILL');
    expect(receiver.attemptsById.get(unscheduled)).toBeUndefined();
    expect(receiver.delivered).toEqual([]);

    receiver.failing = false;
    await start();
    expect(await eventually(() => receiver.ids().includes(retried) && receiver.ids().includes(unscheduled), 20_000)).toBe(true);
    expect(receiver.rejectedSignatures).toEqual([]);
  }, 90_000);

  it('a SIGKILL mid-pass (first attempts claimed and sent, not yet settled) loses nothing: sent again once the lease runs out', async () => {
    await stopAll();
    receiver.holding = true;
    // A 10 s attempt timeout, so the kill comes before any send gives up, also on a loaded machine: the claimed
    // deliveries' leases (timeout + 5 s) run out 15 s after the claim.
    const killed = await start({ EVENT_WEBHOOK_TIMEOUT_MS: '10000' });
    const eventIds = [await signup(killed, `crash-midpass-a-${Date.now()}`), await signup(killed, `crash-midpass-b-${Date.now()}`)];
    expect(await eventually(() => eventIds.every((id) => receiver.held.includes(id)))).toBe(true);
    expect((await killed.kill()).signal).toBe('SIGKILL');

    const db = new Client({ connectionString: cluster.database.url });
    await db.connect();
    try {
      // The cursor is past both events: their claimed delivery rows are all that still owe them to the endpoint.
      const { rows } = await db.query(
        `SELECT d.status, d.attempts, d.lease_owner IS NOT NULL AS leased,
                (e.writer_xid, e.position) <= (ep.cursor_xid, ep.cursor_position) AS behind_cursor
         FROM outbox_events e JOIN event_endpoints ep ON true LEFT JOIN event_deliveries d ON d.event_id = e.id AND d.endpoint = ep.url
         WHERE e.id = ANY($1::uuid[])`,
        [eventIds],
      );
      expect(rows).toEqual([1, 2].map(() => ({ status: 'PENDING', attempts: expect.any(Number), leased: true, behind_cursor: true })));
      expect(rows.every((row) => row.attempts >= 1)).toBe(true);
    } finally {
      await db.end();
    }

    receiver.holding = false;
    await start();
    expect(await eventually(() => eventIds.every((id) => receiver.ids().includes(id)), 40_000)).toBe(true);
    expect(receiver.rejectedSignatures).toEqual([]);
  }, 90_000);
  it('SIGTERM while a push hangs: the process ends within SHUTDOWN_GRACE_MS and leaves the lease to expire', async () => {
    await stopAll();
    receiver.holding = true;
    // The push may take 10 s; the grace period is 1 s: shutdown keeps to the grace, not to the push's own bound.
    const stopped = await start({ EVENT_WEBHOOK_TIMEOUT_MS: '10000', SHUTDOWN_DELAY_MS: '0', SHUTDOWN_GRACE_MS: '1000' });
    const eventId = await signup(stopped, `crash-sigterm-${Date.now()}`);
    expect(await eventually(() => receiver.held.includes(eventId))).toBe(true);
    const started = performance.now();
    expect(await stopped.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const tookMs = performance.now() - started;
    expect(tookMs).toBeLessThan(4_000);

    const db = new Client({ connectionString: cluster.database.url });
    await db.connect();
    try {
      // Either still leased (in flight when the grace ran out: no replica pushes it while the cut-off one may), or its
      // send was aborted as the HTTP client closed and the attempt recorded as failed (not in flight: free to retry).
      const { rows } = await db.query(
        `SELECT lease_owner IS NOT NULL AND lease_until > now() AS leased, attempts, status FROM event_deliveries WHERE event_id = $1`,
        [eventId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].status).toBe('PENDING');
      expect(rows[0].leased || rows[0].attempts >= 1).toBe(true);
    } finally {
      await db.end();
    }

    receiver.holding = false;
    await start();
    expect(await eventually(() => receiver.ids().includes(eventId), 40_000)).toBe(true);
  }, 90_000);
});
