import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { TestDatabase, createTestDatabase } from './support/database';
import { ServiceProcess } from './support/service-process';
import { request } from './support/test-app';

const CAPA_KEY = 'rolling-capa-key-5e6f';
const INBOUND = 'rolling-inbound-token';
const ADMIN = 'rolling-admin-token';
const IN_FLIGHT = 6;

const replicaEnv = (database: TestDatabase, capaUrl: string) => ({
  NODE_ENV: 'production',
  DATABASE_URL: database.url,
  CAPA_BASE_URL: capaUrl,
  CAPA_PARTNER_API_KEY: CAPA_KEY,
  INBOUND_API_KEYS: INBOUND,
  ADMIN_API_KEY: ADMIN,
  REQUEST_DEADLINE_MS: '8000',
  CAPA_TIMEOUT_MS: '6000',
  // B looks for work all the time: a lease A gives up too early is taken at once.
  WORKER_INTERVAL_MS: '50',
  SHUTDOWN_GRACE_MS: '15000',
});

/**
 * A rolling deploy: two replicas on one PostgreSQL, signups in flight on A while Capa answers slowly, SIGTERM to A.
 * Capa answers a repeat with an error (its v2 docs: a reused externalUserId "will cause a conflict"), and a repeat
 * would come back before the slow first answer: only per-drive leases released after the drain keep every userId.
 */
describe('rolling deploy: SIGTERM to a replica with signups in flight', () => {
  let database: TestDatabase;
  let simulator: CapaSimulator;
  let replicaA: ServiceProcess;
  let replicaB: ServiceProcess;

  beforeAll(async () => {
    database = await createTestDatabase('capa_rolling');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY], duplicateMode: 'error' });
    const capaUrl = await simulator.start();
    [replicaA, replicaB] = await Promise.all([ServiceProcess.start(replicaEnv(database, capaUrl)), ServiceProcess.start(replicaEnv(database, capaUrl))]);
  });

  afterAll(async () => {
    await Promise.all([replicaA?.kill().catch(() => undefined), replicaB?.kill().catch(() => undefined)]);
    await simulator.stop();
    await database.drop();
  });

  it('every caller gets its final 201, A exits 0, Capa sees one call per id, every row is CREATED with its userId', async () => {
    simulator.setFaults({ firstCallLatencyMs: 2500 });
    const ids = Array.from({ length: IN_FLIGHT }, (_, n) => `rolling-${n}-${Date.now().toString(36)}`);
    const answers = Promise.all(ids.map((externalUserId) => request(replicaA.url, 'POST', '/v1/users', { externalUserId }, { authorization: `Bearer ${INBOUND}` })));
    while (!ids.every((id) => simulator.callsFor(id) === 1)) await new Promise((resolve) => setTimeout(resolve, 10));

    replicaA.signal('SIGTERM');
    const settled = await answers;
    expect(await replicaA.exited()).toEqual({ code: 0, signal: null });

    expect(settled.map((answer) => answer.status)).toEqual(ids.map(() => 201));
    for (const [n, id] of ids.entries()) {
      expect(simulator.callsFor(id)).toBe(1);
      expect(settled[n].body.userId).toBe(simulator.userFor(id)?.userId);
    }
    // B serves every mapping as CREATED with Capa's userId, and holds no lease on them.
    for (const id of ids) {
      const mapping = await request(replicaB.url, 'GET', `/v1/users/${encodeURIComponent(id)}`, undefined, { authorization: `Bearer ${INBOUND}` });
      expect(mapping.body).toMatchObject({ status: 'CREATED', userId: simulator.userFor(id)?.userId });
      const detail = await request(replicaB.url, 'GET', `/admin/users/${encodeURIComponent(id)}`, undefined, { authorization: `Bearer ${ADMIN}` });
      expect(detail.body.attempts).toHaveLength(1);
    }
    expect(simulator.stats().requests).toBe(IN_FLIGHT);
    expect(replicaA.logs).toContain('Shutdown: requests drained, 0 more drive(s) finished, 0 unfinished lease(s) released');
  });
});

describe('rolling deploy: a drive that does not finish within SHUTDOWN_GRACE_MS', () => {
  let database: TestDatabase;
  let simulator: CapaSimulator;
  let draining: ServiceProcess;
  let survivor: ServiceProcess;

  beforeAll(async () => {
    database = await createTestDatabase('capa_rolling');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    const capaUrl = await simulator.start();
    [draining, survivor] = await Promise.all([
      ServiceProcess.start({ ...replicaEnv(database, capaUrl), SHUTDOWN_GRACE_MS: '1000' }),
      ServiceProcess.start(replicaEnv(database, capaUrl)),
    ]);
  });

  afterAll(async () => {
    await Promise.all([draining?.kill().catch(() => undefined), survivor?.kill().catch(() => undefined)]);
    await simulator.stop();
    await database.drop();
  });

  it('is cut off after the grace period, its lease (and only its) released; the other replica completes the signup', async () => {
    simulator.setFaults({ script: [{ kind: 'timeout' }], timeoutHangMs: 60_000 });
    const externalUserId = `stuck-${Date.now().toString(36)}`;
    const caller = request(draining.url, 'POST', '/v1/users', { externalUserId }, { authorization: `Bearer ${INBOUND}` }).catch((error: Error) => error);
    while (simulator.callsFor(externalUserId) === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const signalled = Date.now();
    draining.signal('SIGTERM');
    expect(await draining.exited()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    // Its connection was closed: no answer (fetch's TypeError, from outside Jest's realm).
    expect(await caller).toMatchObject({ message: 'fetch failed' });
    expect(draining.logs).toContain('Shutdown: requests cut off, 0 more drive(s) finished, 1 unfinished lease(s) released');

    // The survivor's worker takes the released row at once and completes it: one Capa user.
    let mapping = await request(survivor.url, 'GET', `/v1/users/${externalUserId}`, undefined, { authorization: `Bearer ${INBOUND}` });
    for (let i = 0; i < 100 && mapping.body.status !== 'CREATED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      mapping = await request(survivor.url, 'GET', `/v1/users/${externalUserId}`, undefined, { authorization: `Bearer ${INBOUND}` });
    }
    expect(mapping.body).toMatchObject({ status: 'CREATED', userId: simulator.userFor(externalUserId)?.userId });
    expect(simulator.stats().usersCreated).toBe(1);
  });
});
