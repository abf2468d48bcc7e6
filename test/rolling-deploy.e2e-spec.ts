import { newWebhookSecret, useEventReceiver } from './support/event-receiver';
import { useServiceCluster } from './support/service-cluster';
import { ServiceProcess } from './support/service-process';
import { request } from './support/test-app';

const CAPA_KEY = 'rolling-capa-key-5e6f';
const INBOUND = 'rolling-inbound-token';
const ADMIN = 'rolling-admin-token';
const IN_FLIGHT = 6;

/** Each replica's environment (on top of useServiceCluster's): production, its own tokens. */
const REPLICA_ENV = {
  NODE_ENV: 'production',
  INBOUND_API_KEYS: INBOUND,
  ADMIN_API_KEY: ADMIN,
  REQUEST_DEADLINE_MS: '8000',
  CAPA_TIMEOUT_MS: '6000',
  // B looks for work all the time: a lease A gives up too early is taken at once.
  WORKER_INTERVAL_MS: '50',
  SHUTDOWN_GRACE_MS: '15000',
  // The shutdown summary the tests read is logged at info.
  LOG_LEVEL: 'info',
};

/**
 * A rolling deploy: two replicas on one PostgreSQL, signups in flight on A while Capa answers slowly, SIGTERM to A.
 * Capa answers a repeat with an error (its v2 docs: a reused externalUserId "will cause a conflict"), and a repeat
 * would come back before the slow first answer: only per-drive leases released after the drain keep every userId.
 */
describe('rolling deploy: SIGTERM to a replica with signups in flight', () => {
  const { simulator, start } = useServiceCluster({
    databaseName: 'capa_rolling',
    capaKey: CAPA_KEY,
    env: REPLICA_ENV,
    simulator: { duplicateMode: 'error' },
  });
  let replicaA: ServiceProcess;
  let replicaB: ServiceProcess;

  beforeAll(async () => {
    [replicaA, replicaB] = await Promise.all([start(), start()]);
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
    expect(replicaA.logs).toContain(
      'Shutdown: requests drained, 0 more drive(s) finished, 0 drive(s) cut off (call aborted and ended, then lease released), 0 still calling (lease left to expire)',
    );
  });
});

describe('rolling deploy: drives that do not finish within SHUTDOWN_GRACE_MS', () => {
  const { simulator, start } = useServiceCluster({ databaseName: 'capa_rolling', capaKey: CAPA_KEY, env: REPLICA_ENV });
  const secret = newWebhookSecret();
  // Declared after the cluster: it stops once the replicas are killed.
  const receiver = useEventReceiver(secret);
  let draining: ServiceProcess;
  let survivor: ServiceProcess;

  beforeAll(async () => {
    // The draining replica also pushes events, to an endpoint that is slow to answer: its shutdown takes a while
    // longer than the signup drain (the event deliverer waits for its push), as a real replica's may.
    const events = { EVENT_WEBHOOK_URLS: receiver.url, EVENT_WEBHOOK_SECRET: secret, EVENT_WEBHOOK_ALLOW_HTTP: 'true', EVENT_WEBHOOK_TIMEOUT_MS: '2000' };
    [draining, survivor] = await Promise.all([start({ ...events, SHUTDOWN_GRACE_MS: '1000' }), start()]);
  });

  /**
   * Capa takes 8 s to answer (it creates the user at once): the draining replica's calls outlast its 1 s grace. The
   * simulator records when each call arrived and when its connection was done with; the other replica, looking for
   * work every 50 ms, must not call Capa for an id while the draining replica's call for it is still open.
   */
  it('are cut off: each call aborted and ended before its lease is released; no two calls for one id ever overlap', async () => {
    receiver.holding = true;
    const first = await request(draining.url, 'POST', '/v1/users', { externalUserId: `first-${Date.now().toString(36)}` }, { authorization: `Bearer ${INBOUND}` });
    expect(first.status).toBe(201);
    while (receiver.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    simulator.setFaults({ firstCallLatencyMs: 8000 });
    const ids = [0, 1, 2].map((n) => `stuck-${n}-${Date.now().toString(36)}`);
    const callers = ids.map((externalUserId) =>
      request(draining.url, 'POST', '/v1/users', { externalUserId }, { authorization: `Bearer ${INBOUND}` }).catch((error: Error) => error),
    );
    while (!ids.every((id) => simulator.callsFor(id) === 1)) await new Promise((resolve) => setTimeout(resolve, 10));

    const signalled = Date.now();
    draining.signal('SIGTERM');
    expect(await draining.exited()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(6000);
    // Their connections were closed: no answer (fetch's TypeError, from outside Jest's realm).
    for (const caller of callers) expect(await caller).toMatchObject({ message: 'fetch failed' });

    // The survivor's worker takes each released row and completes it with the userId Capa created.
    const mappings: Array<Record<string, unknown>> = [];
    for (const id of ids) {
      let mapping = await request(survivor.url, 'GET', `/v1/users/${id}`, undefined, { authorization: `Bearer ${INBOUND}` });
      for (let i = 0; i < 100 && mapping.body.status !== 'CREATED'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        mapping = await request(survivor.url, 'GET', `/v1/users/${id}`, undefined, { authorization: `Bearer ${INBOUND}` });
      }
      mappings.push(mapping.body);
    }
    // Recorded facts: two calls per id (the aborted one, the survivor's), never open at the same time.
    expect(simulator.overlappingCalls()).toEqual([]);
    const spans = simulator.createUserCallSpans();
    for (const id of ids) expect(spans.filter((span) => span.externalUserId === id)).toHaveLength(2);
    for (const [n, id] of ids.entries()) {
      expect(mappings[n]).toMatchObject({ status: 'CREATED', userId: simulator.userFor(id)?.userId });
      // The aborted call is in the attempt log as such, then the survivor's.
      const detail = await request(survivor.url, 'GET', `/admin/users/${id}`, undefined, { authorization: `Bearer ${ADMIN}` });
      expect(detail.body.attempts.map((attempt: { errorCode: string | null; outcome: string }) => attempt.errorCode ?? attempt.outcome).sort()).toEqual(['ABORTED', 'created']);
    }
    expect(simulator.stats().usersCreated).toBe(ids.length + 1);
    expect(draining.logs).toContain(
      'Shutdown: requests cut off, 0 more drive(s) finished, 3 drive(s) cut off (call aborted and ended, then lease released), 0 still calling (lease left to expire)',
    );
  });
});
