import { Client } from 'pg';
import { useServiceCluster } from './support/service-cluster';
import { request } from './support/test-app';

/** The compiled service as child processes on one real database, against one simulator in this process. */
describe('crashes and replicas (real child processes)', () => {
  const cluster = useServiceCluster({
    databaseName: 'capa_crash',
    env: { REQUEST_DEADLINE_MS: '2000', CAPA_TIMEOUT_MS: '1500', WORKER_INTERVAL_MS: '200', WORKER_BACKOFF_BASE_MS: '100', WORKER_BACKOFF_MAX_MS: '500' },
    stopAfterEach: true,
  });
  const { simulator, start } = cluster;

  async function statusOf(externalUserId: string) {
    const db = new Client({ connectionString: cluster.database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT status, capa_user_id FROM signups WHERE external_user_id = $1', [externalUserId]);
      return rows[0] as { status: string; capa_user_id: string | null } | undefined;
    } finally {
      await db.end();
    }
  }

  it('SIGKILL while a Capa call is in flight: after a restart the row completes with exactly one Capa user', async () => {
    const externalUserId = `crash-${Date.now()}`;
    const first = await start();
    simulator.setFaults({ latencyMs: 1000 });
    const inFlight = request(first.url, 'POST', '/v1/users', { externalUserId }).catch((error: Error) => error);
    while (simulator.callsFor(externalUserId) === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const killed = await first.kill();
    expect(killed.signal).toBe('SIGKILL');
    // The caller sees the connection die (fetch's TypeError comes from another realm under Jest: match the message).
    expect(String(await inFlight)).toMatch(/fetch failed/);
    expect(await statusOf(externalUserId)).toMatchObject({ status: 'PENDING', capa_user_id: null });

    simulator.setFaults({});
    await start();
    const deadline = Date.now() + 20_000;
    let row = await statusOf(externalUserId);
    while (row?.status !== 'CREATED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      row = await statusOf(externalUserId);
    }
    const capaUser = simulator.userFor(externalUserId);
    expect(row).toEqual({ status: 'CREATED', capa_user_id: capaUser!.userId });
    expect(simulator.callsFor(externalUserId)).toBe(2);
    expect(simulator.stats().maxCallsPerUser).toBeLessThanOrEqual(2);
  });

  it('three replicas, the same 120 ids sent to all three at once: one Capa user per id, every caller sees the same userId', async () => {
    // The contract's default deadline: under 360 concurrent requests on two cores, callers must not fall back to 202.
    // A Capa attempt that times out is retried (a second, sequential call, which Capa answers idempotently): on a CI
    // machine loaded by the rest of the suite a 1.5 s timeout was reached (143 calls for 120 ids), so this test, which
    // is about replicas racing for one id, gives each attempt 5 s. No two calls for one id may ever overlap.
    const replicas = await Promise.all([1, 2, 3].map(() => start({ REQUEST_DEADLINE_MS: '10000', CAPA_TIMEOUT_MS: '5000' })));
    simulator.reset();
    simulator.setFaults({ latencyMs: 20, jitterMs: 30 });
    const ids = Array.from({ length: 120 }, (_, index) => `replica-${Date.now()}-${index}`);
    const answers = await Promise.all(
      ids.flatMap((externalUserId) =>
        replicas.map(async (replica) => ({ externalUserId, response: await request(replica.url, 'POST', '/v1/users', { externalUserId }) })),
      ),
    );
    const statuses = answers.map(({ response }) => response.status);
    const byStatus = statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
    console.log(`replicas: answers by status ${JSON.stringify(byStatus)}, Capa users ${simulator.stats().usersCreated}, Capa requests ${simulator.stats().requests}`);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    const repeated = ids.filter((externalUserId) => simulator.callsFor(externalUserId) > 1);
    if (repeated.length > 0) {
      const spans = simulator.createUserCallSpans().filter((span) => span.externalUserId === repeated[0]);
      console.log(`ids called more than once: ${repeated.length}; spans of ${repeated[0]}: ${JSON.stringify(spans.map((span) => ({ startMs: span.start - spans[0].start, tookMs: span.end === null ? null : span.end - span.start })))}`);
    }
    expect(simulator.overlappingCalls()).toEqual([]);
    for (const externalUserId of ids) {
      const capaUser = simulator.userFor(externalUserId);
      expect(capaUser).toBeDefined();
      const seen = answers.filter((answer) => answer.externalUserId === externalUserId).map(({ response }) => response.body.userId);
      expect(seen).toEqual([capaUser!.userId, capaUser!.userId, capaUser!.userId]);
      expect(simulator.callsFor(externalUserId)).toBe(1);
    }
    expect(simulator.stats().usersCreated).toBe(ids.length);
    expect(statuses.filter((status) => status === 201)).toHaveLength(ids.length);
  });
});
