import { Logger } from '@nestjs/common';
import { DeliveryRepository } from '../src/events/delivery.repository';
import { EventDeliverer } from '../src/events/event-deliverer';
import { OutboxWriter } from '../src/events/outbox-writer';
import { PrismaService } from '../src/persistence/prisma.service';
import { usePushingApp } from './support/event-push';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { TestApp, uniqueId } from './support/test-app';

const SECRET = newWebhookSecret();
const RETRY_ENV = { EVENT_RETRY_BASE_MS: '10', EVENT_RETRY_MAX_MS: '20' };
const writer = new OutboxWriter();

async function appendEvent(service: TestApp, prefix: string): Promise<string> {
  const externalUserId = uniqueId(prefix);
  await writer.append(service.app.get(PrismaService).pool, [{ type: 'capa.transaction', externalUserId, userId: null, data: {} }]);
  return (await service.query<{ id: string }>('SELECT id FROM outbox_events WHERE external_user_id = $1', [externalUserId])).rows[0].id;
}

describe("an endpoint's stored position beyond the newest transaction (a restore into a new cluster)", () => {
  const receiver = new EventReceiver(SECRET);
  let errors: jest.SpyInstance;

  beforeAll(() => {
    errors = jest.spyOn(Logger.prototype, 'error');
  });
  const { service } = usePushingApp([receiver], { ...RETRY_ENV, EVENT_DELIVERY_INTERVAL_MS: '20' });
  afterAll(() => errors.mockRestore());

  const faultsCounted = async (): Promise<number> => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const line = metrics.split('\n').find((text) => text.startsWith(`event_endpoint_cursor_faults_total{endpoint="${receiver.url}"} `));
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  };
  const faultLogs = () => errors.mock.calls.filter((call) => String(call[1]).includes('cursor is beyond the newest transaction'));

  it('is counted on /metrics on every pass and logged once (not per pass), never silently nothing pushed; an operator reset resumes', async () => {
    const before = await appendEvent(service, 'before-restore');
    expect(await eventually(() => receiver.attemptsById.has(before))).toBe(true);

    await service.query(
      `UPDATE event_endpoints SET cursor_xid = ((pg_snapshot_xmax(pg_current_snapshot())::text)::numeric + 1000000)::text::xid8, cursor_position = 3 WHERE url = $1`,
      [receiver.url],
    );
    const stranded = await appendEvent(service, 'after-restore');
    expect(await eventually(async () => (await faultsCounted()) >= 5, 15_000)).toBe(true);
    expect(receiver.attemptsById.has(stranded)).toBe(false);
    expect(faultLogs()).toHaveLength(1);
    expect(faultLogs()[0][0]).toEqual({ endpoint: receiver.url, passesSinceLastLog: 0 });
    // Still faulty: counted further, not logged again.
    const counted = await faultsCounted();
    expect(await eventually(async () => (await faultsCounted()) > counted + 3, 15_000)).toBe(true);
    expect(faultLogs()).toHaveLength(1);

    // The README's repair: the endpoint starts again at the feed's current end.
    await service.query('UPDATE event_endpoints SET cursor_xid = capa_event_horizon(), cursor_position = 0 WHERE url = $1', [receiver.url]);
    const resumed = await appendEvent(service, 'after-reset');
    expect(await eventually(() => receiver.attemptsById.has(resumed))).toBe(true);
    const settled = await faultsCounted();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await faultsCounted()).toBe(settled);
  }, 60_000);
});

describe("a push's lease covers the whole send, however long claiming took", () => {
  const receiver = new EventReceiver(SECRET);
  // The deliverer's own loop runs once at boot and then sleeps: only the passes below send. Leases: 500 + 5000 ms.
  const { service } = usePushingApp([receiver], { ...RETRY_ENV, EVENT_DELIVERY_INTERVAL_MS: '600000', EVENT_WEBHOOK_TIMEOUT_MS: '500' });

  beforeAll(async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
  });

  it('a retry whose lease ran out while its pass was still claiming is not sent by that pass once another replica holds it', async () => {
    const url = receiver.url;
    const deliverer = service.app.get(EventDeliverer);
    const repository = service.app.get(DeliveryRepository);
    const retried = await appendEvent(service, 'lease-retry');
    await deliverer.runOnce(url);
    expect(receiver.attemptsById.get(retried)).toBe(1);
    // Due again, as a retry is.
    await service.query(`UPDATE event_deliveries SET status = 'PENDING', delivered_at = NULL, next_attempt_at = now() WHERE event_id = $1`, [retried]);
    const fresh = await appendEvent(service, 'lease-fresh');

    // The pass leases the retry, then its claim of new events is slow (as when it waits for a database connection or
    // a lock on a busy server): it waits here until the retry's lease has run out and another replica has taken it.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const claimNew = repository.claimNew.bind(repository);
    const slowClaim = jest.spyOn(repository, 'claimNew').mockImplementation(async (...args) => {
      await gate;
      return claimNew(...args);
    });
    try {
      const pass = deliverer.runOnce(url);
      const leaseRanOut = async () =>
        (await service.query<{ over: boolean }>('SELECT lease_owner IS NOT NULL AND lease_until <= now() AS over FROM event_deliveries WHERE event_id = $1', [retried])).rows[0].over;
      expect(await eventually(leaseRanOut, 20_000, 100)).toBe(true);
      const takenOver = await repository.claimDue(url, 'replica-b', 60_000, 10);
      expect(takenOver.map((delivery) => delivery.event.id)).toEqual([retried]);
      release();
      await pass;
    } finally {
      release();
      slowClaim.mockRestore();
    }

    // Sending it now would overlap replica-b's send of the same event to the same endpoint.
    expect(receiver.attemptsById.get(retried)).toBe(1);
    expect(receiver.attemptsById.has(fresh)).toBe(false);
    const { rows } = await service.query<{ event_id: string; status: string; lease_owner: string | null; last_error: string | null }>(
      'SELECT event_id, status, lease_owner, last_error FROM event_deliveries WHERE event_id = ANY($1::uuid[]) ORDER BY event_id = $2 DESC',
      [[retried, fresh], retried],
    );
    expect(rows).toEqual([
      { event_id: retried, status: 'PENDING', lease_owner: 'replica-b', last_error: null },
      { event_id: fresh, status: 'PENDING', lease_owner: null, last_error: expect.stringMatching(/lease ran out before the send/) },
    ]);
    // The fresh event is retried (and delivered) by a later pass, under a lease of its own.
    expect(
      await eventually(async () => {
        await deliverer.runOnce(url);
        return receiver.attemptsById.get(fresh) === 1;
      }, 10_000),
    ).toBe(true);
  }, 60_000);
});
