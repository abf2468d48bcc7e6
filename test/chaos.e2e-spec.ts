import { CapaObserver } from '../src/capa/capa-observer';
import { ADMIN_TOKEN, uniqueId, useTestApp } from './support/test-app';

const SIGNUPS = 300;
const CONCURRENCY = 25;

describe('chaos: mixed Capa faults never lose or duplicate a signup', () => {
  const service = useTestApp({
    env: {
      // Attempts time out at 1 s, not 400 ms: under a loaded CI machine a 400 ms timeout was reached by healthy calls
      // too, the breaker then opened on failures the simulator never scripted (16% final answers in one CI run).
      REQUEST_DEADLINE_MS: '3000',
      CAPA_TIMEOUT_MS: '1000',
      WORKER_INTERVAL_MS: '100',
      WORKER_BATCH_SIZE: '50',
      WORKER_BACKOFF_BASE_MS: '100',
      WORKER_BACKOFF_MAX_MS: '1000',
      CAPA_CIRCUIT_HALF_OPEN_MS: '500',
    },
  });

  it(`${SIGNUPS} signups with 5xx, timeouts, resets, lost responses and 429s: all CREATED after drain, one Capa user each, no 5xx`, async () => {
    service.simulator.setFaults({
      random: { seed: 20261127, status500: 0.15, status429: 0.05, timeout: 0.05, reset: 0.05, commitThenReset: 0.05, retryAfter: '0' },
      timeoutHangMs: 2000,
      latencyMs: 5,
      jitterMs: 20,
    });
    const circuit: string[] = [];
    service.app.get(CapaObserver).subscribe({ circuitChanged: (status) => circuit.push(status) });
    const ids = Array.from({ length: SIGNUPS }, () => uniqueId('chaos'));
    const statuses: number[] = [];
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ids.length) {
          const externalUserId = ids[next++];
          const response = await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: `${externalUserId}@example.com` });
          statuses.push(response.status);
        }
      }),
    );
    const answeredAt = Date.now();

    let pending = Infinity;
    while (pending > 0 && Date.now() - answeredAt < 90_000) {
      const { rows } = await service.query(`SELECT count(*)::int AS n FROM signups WHERE status <> 'CREATED' AND external_user_id LIKE 'chaos-%'`);
      pending = rows[0].n;
      if (pending > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const drainedAt = Date.now();
    const { rows } = await service.query(`SELECT external_user_id, status, capa_user_id FROM signups WHERE external_user_id LIKE 'chaos-%'`);
    service.simulator.setFaults({});

    const byStatus = statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
    const calls = ids.map((externalUserId) => service.simulator.callsFor(externalUserId));
    const stats = service.simulator.stats();
    const finalShare = (100 * (byStatus[201] ?? 0)) / SIGNUPS;
    const { retryBudget } = (await service.call('GET', '/admin/stats', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).body.capa;
    console.log(
      [
        `chaos: ${SIGNUPS} signups at concurrency ${CONCURRENCY}`,
        `answers by status: ${JSON.stringify(byStatus)}; final answer (201) for ${finalShare.toFixed(1)}% of callers`,
        `upstream calls per id: mean ${(calls.reduce((a, b) => a + b, 0) / calls.length).toFixed(2)}, max ${Math.max(...calls)}`,
        `simulator: ${stats.requests} requests, ${stats.usersCreated} users, by status ${JSON.stringify(stats.byStatus)}, resets ${stats.resets}, timeouts ${stats.timeouts}`,
        `answered in ${answeredAt - started} ms, drained (all CREATED) ${drainedAt - answeredAt} ms later`,
        `breaker transitions: ${JSON.stringify(circuit)}; retries ${JSON.stringify(retryBudget)}`,
      ].join('\n'),
    );

    expect(statuses).toHaveLength(SIGNUPS);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(statuses.every((status) => status === 201 || status === 202)).toBe(true);
    // A Capa failing 35% of calls transiently is mostly up: callers get their final answer (96% seen; 65% with the
    // old consecutive-failure breaker, which opened and closed 11 times in this run).
    expect(finalShare).toBeGreaterThanOrEqual(85);
    expect(rows).toHaveLength(SIGNUPS);
    expect(rows.filter((row) => row.status !== 'CREATED')).toEqual([]);
    for (const row of rows) expect(row.capa_user_id).toBe(service.simulator.userFor(row.external_user_id)!.userId);
    expect(stats.usersCreated).toBe(SIGNUPS);
  });
});
