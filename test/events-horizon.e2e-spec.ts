import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ndjson } from './support/imports';
import { INBOUND_TOKEN, startTestApp, TestApp, uniqueId } from './support/test-app';

const SECRET = newWebhookSecret();

/**
 * The event horizon: events show in the feed (and are pushed) once every transaction that could still commit an event
 * before them has ended. A transaction that writes no events (an import's upload) is registered as such and looked past.
 */
describe('event horizon', () => {
  let service: TestApp;
  const receiver = new EventReceiver(SECRET);

  beforeAll(async () => {
    service = await startTestApp({
      env: { EVENT_WEBHOOK_URLS: await receiver.start(), EVENT_WEBHOOK_SECRET: SECRET, EVENT_WEBHOOK_ALLOW_HTTP: 'true', EVENT_DELIVERY_INTERVAL_MS: '50' },
    });
  });

  afterAll(async () => {
    await service?.close();
    await receiver.stop();
  });

  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: service.databaseUrl });
    await client.connect();
    return client;
  }

  /** The feed's end now, as a cursor. */
  async function feedEnd(): Promise<string> {
    let cursor: string | undefined;
    for (;;) {
      const page = await service.call('GET', `/v1/events?limit=500${cursor ? `&after=${cursor}` : ''}`);
      if (page.body.items.length === 0) return page.body.nextCursor;
      cursor = page.body.nextCursor;
    }
  }

  async function feedAfter(cursor: string): Promise<Array<{ id: string; externalUserId: string }>> {
    return (await service.call('GET', `/v1/events?limit=500&after=${cursor}`)).body.items;
  }

  it("a live signup's event is in the feed and pushed while an import upload is still open", async () => {
    const start = await feedEnd();
    // An upload that sends a few rows and then keeps its body open (staged in its session's own tables, no transaction
    // held open meanwhile).
    const upload = httpRequest(new URL('/v1/imports', service.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${INBOUND_TOKEN}`, 'transfer-encoding': 'chunked' },
    });
    const answered = new Promise<number>((resolve, reject) => {
      upload.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      upload.on('error', reject);
    });
    try {
      await whileUploading(upload, start);
    } finally {
      upload.end();
    }
    expect(await answered).toBe(202);
  });

  async function whileUploading(upload: ReturnType<typeof httpRequest>, start: string): Promise<void> {
    const imported = Array.from({ length: 3 }, () => ({ externalUserId: uniqueId('horizon-import') }));
    upload.write(ndjson(imported));
    // The upload is open and has staged its rows (its session's temporary staging table exists).
    const staged = async () => (await service.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'import\\_staged\\_%' AND relpersistence = 't'`)).rows[0].n === 1;
    expect(await eventually(staged, 10_000)).toBe(true);

    const externalUserId = uniqueId('horizon-live');
    const signup = await service.call('POST', '/v1/users', { externalUserId });
    expect(signup.status).toBe(201);

    // Shown and pushed, although an older transaction (the upload's) is still running.
    let shown: Array<{ id: string; externalUserId: string }> = [];
    expect(await eventually(async () => (shown = (await feedAfter(start)).filter((item) => item.externalUserId === externalUserId)).length === 1, 10_000)).toBe(true);
    expect(await eventually(() => receiver.ids().includes(shown[0].id), 10_000)).toBe(true);
    expect(await staged()).toBe(true);
  }

  it('a transaction that is not registered still holds back every event after it until it ends', async () => {
    const start = await feedEnd();
    const early = await connect();
    const ids = [uniqueId('early'), uniqueId('later')];
    const ours = async () => (await feedAfter(start)).map((item) => item.externalUserId).filter((id) => ids.includes(id));
    try {
      await early.query('BEGIN');
      await early.query(`INSERT INTO outbox_events (type, external_user_id) VALUES ('capa.transaction', $1)`, [ids[0]]);
      await service.query(`INSERT INTO outbox_events (type, external_user_id) VALUES ('capa.transaction', $1)`, [ids[1]]);
      await sleep(300);
      expect(await ours()).toEqual([]);
      await early.query('COMMIT');
      expect(await eventually(async () => (await ours()).length === 2, 10_000)).toBe(true);
      expect(await ours()).toEqual(ids);
    } finally {
      await early.end();
    }
  });

  it('a transaction in another database of the server does not hold events back', async () => {
    const start = await feedEnd();
    const elsewhere = new URL(service.databaseUrl);
    elsewhere.pathname = '/postgres';
    const other = new Client({ connectionString: elsewhere.toString() });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_current_xact_id()');
      const externalUserId = uniqueId('beside-other-database');
      await service.query(`INSERT INTO outbox_events (type, external_user_id) VALUES ('capa.transaction', $1)`, [externalUserId]);
      expect(await eventually(async () => (await feedAfter(start)).some((item) => item.externalUserId === externalUserId), 10_000)).toBe(true);
    } finally {
      await other.end();
    }
  });

  it('a transaction registered as writing no events cannot write one', async () => {
    const registered = await connect();
    try {
      await registered.query('BEGIN');
      const { rows } = await registered.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      await service.query(`INSERT INTO event_horizon_exempt (xid, reason) VALUES ($1::xid8, 'test')`, [rows[0].xid]);
      await expect(
        registered.query(`INSERT INTO outbox_events (type, external_user_id) VALUES ('capa.transaction', $1)`, [uniqueId('forbidden')]),
      ).rejects.toThrow(/registered in event_horizon_exempt as writing no events/);
    } finally {
      await registered.end();
    }
  });
});
