import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliveryRepository } from '../src/events/delivery.repository';
import { OutboxWriter } from '../src/events/outbox-writer';
import type { OutboxEventInput } from '../src/events/event.types';
import { PrismaService } from '../src/persistence/prisma.service';
import { encodeFeedCursor } from '../src/events/feed-cursor';
import { ADMIN_TOKEN, useTestApp, uniqueId } from './support/test-app';

const writer = new OutboxWriter();
// The feed passes any event's data through as written: these carry a marker, not their type's real data.
const event = (externalUserId: string, type: OutboxEventInput['type'] = 'capa.transaction'): OutboxEventInput =>
  ({ type, externalUserId, userId: null, data: { n: externalUserId } }) as OutboxEventInput;

/** Promise.all that also runs `finally` once every promise has settled, so a failing writer never strands the consumer. */
async function settleAll(promises: Promise<unknown>[], finally_: () => void): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    finally_();
    throw failed.reason;
  }
}

describe('GET /v1/events: the pull feed', () => {
  const service = useTestApp();

  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: service.databaseUrl });
    await client.connect();
    return client;
  }

  /** Follows the feed from `after` until a page comes back empty; answers the ids seen and the final cursor. */
  async function drain(after: string | undefined, limit: number, type?: string): Promise<{ ids: string[]; cursor: string }> {
    const ids: string[] = [];
    let cursor = after;
    for (;;) {
      const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { after: cursor } : {}), ...(type ? { type } : {}) });
      const page = await service.call('GET', `/v1/events?${query}`);
      expect(page.status).toBe(200);
      ids.push(...page.body.items.map((item: { id: string }) => item.id));
      if (page.body.items.length === 0) return { ids, cursor: page.body.nextCursor };
      cursor = page.body.nextCursor;
    }
  }

  /**
   * Waits (bounded) until the feed after `after` shows `count` events: an event shows once no older transaction of
   * this database is still running (a writer of another test may be).
   */
  async function untilVisible(after: string, count: number): Promise<void> {
    const deadline = Date.now() + 25_000;
    while ((await drain(after, 500)).ids.length < count && Date.now() < deadline) await sleep(50);
  }

  it('a consumer following the cursor sees every committed event exactly once while writers commit out of order', async () => {
    const { ids: before, cursor: start } = await drain(undefined, 500);
    expect(before).toEqual([]);
    const consumed: string[] = [];
    let writing = true;
    const consumer = (async () => {
      let cursor = start;
      while (writing) {
        const page = await service.call('GET', `/v1/events?limit=7&after=${cursor}`);
        expect(page.status).toBe(200);
        consumed.push(...page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor;
        if (page.body.items.length === 0) await sleep(5);
      }
      return cursor;
    })();

    // Each writer opens a transaction, writes, holds it open a random while and commits (some roll back). Started
    // in one order, they commit in another; half take their transaction id before anyone writes, so id order and
    // position order differ too.
    const writers = Array.from({ length: 24 }, (_, index) => index);
    const rolledBack = new Set<string>();
    await settleAll(
      writers.map(async (index) => {
        const client = await connect();
        try {
          await sleep(index * 15);
          await client.query('BEGIN');
          if (index % 2 === 0) await client.query('SELECT pg_current_xact_id()');
          await sleep(Math.random() * 150);
          const externalUserId = uniqueId(`writer-${index}`);
          await writer.append(client, [event(externalUserId), event(externalUserId), event(externalUserId)]);
          await client.query('SELECT pg_sleep($1)', [((24 - index) * 25 + Math.random() * 100) / 1000]);
          if (index % 7 === 3) {
            await client.query('ROLLBACK');
            rolledBack.add(externalUserId);
          } else {
            await client.query('COMMIT');
          }
        } finally {
          await client.end();
        }
      }),
      () => (writing = false),
    );
    // And a Prisma interactive transaction as the executor.
    const prisma = service.app.get(PrismaService);
    await prisma.$transaction(async (tx) => writer.append(tx, [event(uniqueId('prisma'))]));

    await sleep(200);
    writing = false;
    const cursor = await consumer;
    // Events show once no older transaction of this database is still running.
    const total = Number((await service.query('SELECT count(*) AS n FROM outbox_events')).rows[0].n);
    let next = cursor;
    const deadline = Date.now() + 25_000;
    while (consumed.length < total && Date.now() < deadline) {
      const drained = await drain(next, 7);
      consumed.push(...drained.ids);
      next = drained.cursor;
      if (drained.ids.length === 0) await sleep(50);
    }
    expect((await drain(next, 7)).ids).toEqual([]);

    const { rows } = await service.query<{ id: string; external_user_id: string }>(
      'SELECT id, external_user_id FROM outbox_events ORDER BY writer_xid, position',
    );
    const listing = rows.map((row) => row.id);
    expect(rows.some((row) => rolledBack.has(row.external_user_id))).toBe(false);
    expect(listing).toHaveLength(24 * 3 - rolledBack.size * 3 + 1);
    expect(new Set(consumed).size).toBe(consumed.length);
    expect(consumed).toEqual(listing);
  }, 60_000);

  it('answers items in feed order with the documented fields; nextCursor is unchanged when nothing is new', async () => {
    const { cursor } = await drain(undefined, 500);
    const externalUserId = uniqueId('shape');
    await writer.append(service.app.get(PrismaService).pool, [{ type: 'signup.created', externalUserId, userId: 'u-1', data: { status: 'CREATED', error: null } }]);
    await untilVisible(cursor, 1);
    const page = await service.call('GET', `/v1/events?after=${cursor}`);
    expect(page.body.items).toEqual([
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), type: 'signup.created', occurredAt: expect.any(String), externalUserId, userId: 'u-1', data: { status: 'CREATED', error: null } },
    ]);
    expect(new Date(page.body.items[0].occurredAt).toISOString()).toBe(page.body.items[0].occurredAt);
    const next = page.body.nextCursor;
    expect(next).not.toBe(cursor);
    const empty = await service.call('GET', `/v1/events?after=${next}`);
    expect(empty.body).toEqual({ items: [], nextCursor: next });
  });

  it('a type filter advances the cursor past the events it skipped, so consumers never rescan them', async () => {
    const { cursor } = await drain(undefined, 500);
    const externalUserId = uniqueId('typed');
    const pool = service.app.get(PrismaService).pool;
    await writer.append(pool, [event(externalUserId, 'signup.failed'), event(externalUserId, 'signup.created'), event(externalUserId, 'signup.failed')]);
    await untilVisible(cursor, 3);
    const created = await service.call('GET', `/v1/events?type=signup.created&after=${cursor}`);
    expect(created.body.items.map((item: { type: string }) => item.type)).toEqual(['signup.created']);
    // Past the trailing signup.failed too: nothing of any type is left behind the cursor.
    const rest = await service.call('GET', `/v1/events?after=${created.body.nextCursor}`);
    expect(rest.body.items).toEqual([]);
    const none = await service.call('GET', `/v1/events?type=kyc.status_changed&after=${cursor}`);
    expect(none.body.items).toEqual([]);
    expect(none.body.nextCursor).toBe(created.body.nextCursor);
    // A full page ends at its last item: the rest is read next.
    const firstOnly = await service.call('GET', `/v1/events?type=signup.failed&limit=1&after=${cursor}`);
    const second = await service.call('GET', `/v1/events?type=signup.failed&after=${firstOnly.body.nextCursor}`);
    expect([...firstOnly.body.items, ...second.body.items]).toHaveLength(2);
  });

  it.each([
    ['limit 0', 'limit=0'],
    ['limit 501', 'limit=501'],
    ['limit not a number', 'limit=ten'],
    ['limit fractional', 'limit=1.5'],
    ['an unknown type', 'type=signup.deleted'],
    ['a made-up cursor', `after=${Buffer.from('12').toString('base64url')}`],
    ['garbage cursor', 'after=%25%25%25'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_name, query) => {
    const response = await service.call('GET', `/v1/events?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', details: [expect.any(Object)] });
  });

  it('answers 400 INVALID_CURSOR for a cursor beyond the newest transaction (another cluster\'s), never an empty page; current cursors still work', async () => {
    const { cursor } = await drain(undefined, 500);
    const newest = BigInt((await service.query<{ xid: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xid')).rows[0].xid);
    // As after a dump/restore into a new cluster: the consumer's stored cursor names a transaction this one has not reached.
    for (const writerXid of [newest + 1_000_000n, newest + 5_000n]) {
      const future = encodeFeedCursor({ writerXid, position: 7n });
      for (const query of [`after=${future}`, `after=${future}&type=signup.created&limit=1`]) {
        const response = await service.call('GET', `/v1/events?${query}`);
        expect(response.status).toBe(400);
        expect(response.body).toEqual({ statusCode: 400, code: 'INVALID_CURSOR', message: expect.stringContaining('beyond the newest transaction') });
      }
    }
    // New events arrive; the cursor this service issued keeps working and sees them.
    const externalUserId = uniqueId('cursor-check');
    await writer.append(service.app.get(PrismaService).pool, [event(externalUserId)]);
    await untilVisible(cursor, 1);
    const page = await service.call('GET', `/v1/events?after=${cursor}`);
    expect(page.status).toBe(200);
    expect(page.body.items.map((item: { externalUserId: string }) => item.externalUserId)).toEqual([externalUserId]);
    const tail = await service.call('GET', `/v1/events?after=${page.body.nextCursor}`);
    expect(tail.body).toEqual({ items: [], nextCursor: page.body.nextCursor });
  });

  it('accepts limit 1 and 500', async () => {
    expect((await service.call('GET', '/v1/events?limit=1')).status).toBe(200);
    expect((await service.call('GET', '/v1/events?limit=500')).status).toBe(200);
  });

  it.each([
    ['no token', ''],
    ['the admin token', `Bearer ${ADMIN_TOKEN}`],
  ])('answers 401 with %s', async (_name, authorization) => {
    const response = await service.call('GET', '/v1/events', undefined, { authorization });
    expect(response.status).toBe(401);
  });
});

describe('GET /v1/events: order of transaction ids and positions', () => {
  const service = useTestApp();

  it('follows numbers, not their text: paging never skips an event when an id or a position gains a digit', async () => {
    // Written by hand at chosen (writer_xid, position): as text, "10" < "100" < "8" < "9" < "99", and a page cut in
    // text order would hand out a cursor past events it never returned.
    const keys: Array<[number, number]> = [[9, 1], [9, 2], [10, 8], [10, 9], [10, 10], [10, 11], [99, 12], [100, 13], [100, 100]];
    for (const [xid, position] of keys) {
      await service.query(
        `INSERT INTO outbox_events (writer_xid, position, type, external_user_id, data) VALUES ($1::text::xid8, $2, 'capa.transaction', $3, '{}')`,
        [String(xid), position, `order-${xid}-${position}`],
      );
    }
    const inOrder = keys.map(([xid, position]) => `order-${xid}-${position}`);

    const all = await service.call('GET', '/v1/events?limit=500');
    expect(all.body.items.map((item: { externalUserId: string }) => item.externalUserId)).toEqual(inOrder);

    const paged: string[] = [];
    let after = '';
    for (let page = 0; page < 10; page++) {
      const response = await service.call('GET', `/v1/events?limit=2${after}`);
      if (response.body.items.length === 0) break;
      paged.push(...response.body.items.map((item: { externalUserId: string }) => item.externalUserId));
      after = `&after=${response.body.nextCursor}`;
    }
    expect(paged).toEqual(inOrder);

    // The push side follows the same order: an endpoint claiming two events at a time from the start skips none.
    const deliveries = service.app.get(DeliveryRepository);
    const url = 'http://order.test/events';
    await service.query(`INSERT INTO event_endpoints (url, cursor_xid, cursor_position) VALUES ($1, '0', 0)`, [url]);
    const pushed: string[] = [];
    for (let round = 0; round < 10; round++) {
      const { claimed } = await deliveries.claimNew(url, 'order-test', 60_000, 2, 60_000);
      if (claimed.length === 0) break;
      pushed.push(...claimed.map((delivery) => delivery.event.externalUserId));
    }
    expect(pushed).toEqual(inOrder);
  });
});
