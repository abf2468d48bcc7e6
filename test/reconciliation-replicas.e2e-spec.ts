import { Client } from 'pg';
import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { createTestDatabase } from './support/database';
import { ServiceProcess } from './support/service-process';
import { ADMIN_TOKEN, CAPA_KEY, request } from './support/test-app';

const SECRET = 'capa-webhook-secret-replicas';
const INTERVAL_MS = 3_000;
const USERS = 30;
/** Each user's verdicts during the outage, in Capa's order, and the status they leave. */
const JOURNEYS: Array<{ events: string[]; final: string }> = [
  { events: ['CREATED_KYC', 'VERIFIED_USER'], final: 'VERIFIED' },
  { events: ['CREATED_KYC', 'REJECTED_KYC'], final: 'REJECTED' },
  { events: ['CREATED_KYC', 'REVIEW_NEEDED_KYC'], final: 'REVIEW_NEEDED' },
];
const STATUS_OF: Record<string, string> = { CREATED_KYC: 'IN_PROGRESS', VERIFIED_USER: 'VERIFIED', REJECTED_KYC: 'REJECTED', REVIEW_NEEDED_KYC: 'REVIEW_NEEDED' };

/** The compiled service as two child processes on one database, against one simulator in this process. */
describe('reconciliation after an outage, two replicas (real child processes)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: CapaSimulator;
  let db: Client;
  let env: Record<string, string>;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('capa_reconcile');
    // The service is down: Capa's deliveries go nowhere, retried on Capa's schedule compressed to ~60 ms, then FAILED.
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY], webhooks: { url: 'http://127.0.0.1:9/webhooks/capa', secret: SECRET, retryScale: 0.00005 } });
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      CAPA_BASE_URL: await simulator.start(),
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      CAPA_WEBHOOK_SECRETS: SECRET,
      INBOUND_API_KEYS: 'inbound-token-a',
      ADMIN_API_KEY: ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
    };
    db = new Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await Promise.all(processes.splice(0).map((service) => service.kill()));
    await db.end();
    await simulator.stop();
    await database.drop();
  });

  async function start(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await ServiceProcess.start({ ...env, ...overrides });
    processes.push(service);
    return service;
  }

  it('every user converges to Capa’s final status within three intervals, each notification applied once and in order', async () => {
    const registrar = await start();
    const ids = Array.from({ length: USERS }, (_, index) => `replica-user-${index}`);
    for (const id of ids) expect((await request(registrar.url, 'POST', '/v1/users', { externalUserId: id })).status).toBe(201);
    expect((await registrar.stop()).code).toBe(0);
    processes.splice(processes.indexOf(registrar), 1);

    // While it is down, every user's KYC moves at Capa: the verdicts interleave across users.
    for (const step of [0, 1]) {
      for (const [index, id] of ids.entries()) simulator.sendKycEvent(id, JOURNEYS[index % 3].events[step]);
    }
    await simulator.webhooks.settled(30_000);
    expect(simulator.webhookNotifications().map((notification) => notification.status)).toEqual(Array(USERS * 2).fill('FAILED'));

    const upAt = Date.now();
    const replicas = await Promise.all([start({ CAPA_RECONCILE_INTERVAL_MS: String(INTERVAL_MS) }), start({ CAPA_RECONCILE_INTERVAL_MS: String(INTERVAL_MS) })]);
    simulator.configureWebhooks({ url: `${replicas[0].url}/webhooks/capa` });
    const expected = ids.map((_, index) => JOURNEYS[index % 3].final);
    const statuses = async () =>
      (await db.query(`SELECT kyc_status::text AS status FROM signups WHERE external_user_id = ANY($1) ORDER BY external_user_id`, [ids])).rows;
    const byId = async () => {
      const { rows } = await db.query(`SELECT external_user_id AS id, kyc_status::text AS status FROM signups WHERE external_user_id = ANY($1)`, [ids]);
      return ids.map((id) => rows.find((row) => row.id === id)?.status);
    };
    while (JSON.stringify(await byId()) !== JSON.stringify(expected)) {
      if (Date.now() - upAt > 3 * INTERVAL_MS + 10_000) throw new Error(`not converged: ${JSON.stringify(await statuses())}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Let the retried notifications be redelivered and a few more runs go by on both replicas.
    await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL_MS));
    await simulator.webhooks.settled(10_000);
    expect(await byId()).toEqual(expected);

    // Each notification taken in once, as a reconciled entry with its id.
    const reconciled = await db.query(`SELECT notification_id FROM capa_webhook_inbox WHERE source = 'reconciled'`);
    expect(new Set(reconciled.rows.map((row) => row.notification_id))).toEqual(new Set(simulator.webhookNotifications().map((notification) => notification.id)));
    expect(reconciled.rows).toHaveLength(USERS * 2);

    // The feed: each user's kyc.status_changed events exactly once, in Capa's order.
    const { rows: events } = await db.query(
      `SELECT external_user_id AS id, data FROM outbox_events WHERE type = 'kyc.status_changed' ORDER BY position`,
    );
    for (const [index, id] of ids.entries()) {
      const journey = JOURNEYS[index % 3].events;
      expect(events.filter((event) => event.id === id).map((event) => event.data.capaEvent)).toEqual(journey);
      expect(events.filter((event) => event.id === id).map((event) => event.data.status)).toEqual(journey.map((event) => STATUS_OF[event]));
    }

    // Retries within Capa's caps: never a 429, never more than 10 in a minute; each redelivery a duplicate.
    const calls = simulator.notifications.retryCalls();
    expect(calls.length).toBeGreaterThanOrEqual(10);
    expect(calls.filter((call) => call.status === 429)).toEqual([]);
    for (const call of calls) expect(calls.filter((other) => other.at >= call.at && other.at < call.at + 60_000).length).toBeLessThanOrEqual(10);
    const redeliveries = await db.query(`SELECT count(*)::int AS n FROM capa_webhook_inbox WHERE source = 'webhook' AND outcome = 'duplicate' AND outcome_reason = 'redelivery'`);
    const accepted = calls.filter((call) => call.status === 201).length;
    expect(redeliveries.rows[0].n).toBe(accepted);

    const totals = await request(replicas[1].url, 'GET', '/admin/reconciliation', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(totals.body).toMatchObject({ lastError: null, notifications: { seen: USERS * 2, applied: USERS * 2, retried: accepted, retryRefused: 0 } });
    expect(totals.body.notifications.duplicate).toBeGreaterThan(0);

    // SIGTERM: the run in progress (if any) finishes its Capa call and stops; both exit cleanly.
    const exits = await Promise.all(replicas.map((replica) => replica.stop()));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0]);
    processes.splice(0);
  });
});
