import { DeliveryRepository } from '../src/events/delivery.repository';
import { OutboxWriter } from '../src/events/outbox-writer';
import { PrismaService } from '../src/persistence/prisma.service';
import { usePushingApp } from './support/event-push';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ADMIN_TOKEN, uniqueId } from './support/test-app';

const SECRET = newWebhookSecret();
const PUSH_ENV = { EVENT_RETRY_BASE_MS: '50', EVENT_RETRY_MAX_MS: '200', EVENT_DELIVERY_INTERVAL_MS: '20', EVENT_WEBHOOK_TIMEOUT_MS: '2000' };

/** Two replicas on one database share the deliveries: every event reaches the endpoint, never twice at once. */
describe('event delivery across replicas', () => {
  const receiver = new EventReceiver(SECRET, { delayMs: 30 });
  const { service: first, replica: second } = usePushingApp([receiver], PUSH_ENV, { replica: true });

  it('both replicas deliver (SKIP LOCKED), each event once, none in flight twice at once', async () => {
    const claimedBy = { first: 0, second: 0 };
    for (const [name, app] of [['first', first.app], ['second', second]] as const) {
      const repository = app.get(DeliveryRepository);
      const claimDue = repository.claimDue.bind(repository);
      const claimNew = repository.claimNew.bind(repository);
      jest.spyOn(repository, 'claimDue').mockImplementation(async (...args) => {
        const claimed = await claimDue(...args);
        claimedBy[name] += claimed.length;
        return claimed;
      });
      jest.spyOn(repository, 'claimNew').mockImplementation(async (...args) => {
        const result = await claimNew(...args);
        claimedBy[name] += result.claimed.length;
        return result;
      });
    }
    // Passes that began before the spies (every 20 ms) end, with nothing to claim, before the first event commits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const writer = new OutboxWriter();
    const pool = first.app.get(PrismaService).pool;
    for (let batch = 0; batch < 10; batch++) {
      const externalUserId = uniqueId('replica');
      await writer.append(pool, Array.from({ length: 30 }, () => ({ type: 'capa.transaction' as const, externalUserId, userId: null, data: { batch } })));
    }
    expect(await eventually(() => receiver.delivered.length >= 300, 30_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { rows } = await first.query<{ id: string }>('SELECT id FROM outbox_events');
    expect(receiver.ids().sort()).toEqual(rows.map((row) => row.id).sort());
    expect(receiver.overlapping).toEqual([]);
    // Both replicas took a share.
    expect(claimedBy.first).toBeGreaterThan(0);
    expect(claimedBy.second).toBeGreaterThan(0);
    expect(claimedBy.first + claimedBy.second).toBe(300);
  }, 60_000);
});

describe('claiming deliveries', () => {
  const receiver = new EventReceiver(SECRET, { hang: true });
  // A deliverer that never runs on its own (the interval is long), so only the claims below take deliveries.
  const { service } = usePushingApp([receiver], { ...PUSH_ENV, EVENT_DELIVERY_INTERVAL_MS: '600000' });

  it('concurrent claims for one endpoint never hand out one delivery twice, new or due again', async () => {
    const url = receiver.url;
    const repository = service.app.get(DeliveryRepository);
    await new OutboxWriter().append(service.app.get(PrismaService).pool, Array.from({ length: 200 }, () => ({ type: 'capa.transaction' as const, externalUserId: uniqueId('claim'), userId: null, data: {} })));
    // First attempts: claimers race for the events past the cursor (each takes up to 40) until none is left.
    const firstAttempts: string[] = [];
    expect(
      await eventually(async () => {
        const claims = await Promise.all(Array.from({ length: 8 }, (_, index) => repository.claimNew(url, `new-claimer-${index}`, 1000, 40, 60_000)));
        firstAttempts.push(...claims.flatMap((claim) => claim.claimed.map((claimed) => claimed.event.id)));
        return firstAttempts.length >= 200;
      }),
    ).toBe(true);
    expect(new Set(firstAttempts).size).toBe(firstAttempts.length);
    expect(firstAttempts).toHaveLength(200);
    const { rows } = await service.query<{ n: number; leased: number }>('SELECT count(*)::int AS n, count(lease_owner)::int AS leased FROM event_deliveries');
    expect(rows[0]).toEqual({ n: 200, leased: 200 });

    // While those leases run, nothing is due; once they have run out (a crashed claimer), each is handed out once more.
    expect(await repository.claimDue(url, 'early', 60_000, 500)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const claims = await Promise.all(Array.from({ length: 8 }, (_, index) => repository.claimDue(url, `claimer-${index}`, 60_000, 40)));
    const ids = claims.flat().map((claimed) => claimed.deliveryId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(200);
    expect(claims.flat().every((claimed) => claimed.attempts === 2)).toBe(true);
  });

  it('an event redelivered by an operator before its first attempt is claimed once, by the due claim only', async () => {
    const url = receiver.url;
    const repository = service.app.get(DeliveryRepository);
    const externalUserId = uniqueId('redeliver');
    await new OutboxWriter().append(service.app.get(PrismaService).pool, [{ type: 'capa.transaction' as const, externalUserId, userId: null, data: {} }]);
    const event = (await service.query<{ id: string }>('SELECT id FROM outbox_events WHERE external_user_id = $1', [externalUserId])).rows[0];
    const redelivered = await service.call('POST', `/admin/events/${event.id}/redeliver`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(redelivered.status).toBe(200);
    const [fresh, due] = await Promise.all([repository.claimNew(url, 'new-claimer', 60_000, 40, 60_000), repository.claimDue(url, 'due-claimer', 60_000, 40)]);
    expect(fresh.claimed.map((claimed) => claimed.event.id)).toEqual([]);
    expect(due.map((claimed) => claimed.event.id)).toEqual([event.id]);
  });
});
