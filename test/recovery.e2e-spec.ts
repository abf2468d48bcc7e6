import { uniqueId, useTestApp } from './support/test-app';

const SIGNUPS = 20;
/** The drain's pace: half of CAPA_RETRY_BUDGET_MIN_PER_SECOND (10, the default). */
const DRAIN_PER_SECOND = 5;

/**
 * Recovery is prompt where backoff meets an outage (DESIGN.md, "Rules where features meet"). A background backoff base
 * of 30 s stands in for the minutes a signup waits after many failed attempts: without a recovery signal, each of
 * these signups waits 0..30 s or more after Capa is healthy again.
 */
describe('recovery after an outage', () => {
  const service = useTestApp({
    env: {
      REQUEST_DEADLINE_MS: '3000',
      CAPA_TIMEOUT_MS: '500',
      WORKER_INTERVAL_MS: '500',
      WORKER_BACKOFF_BASE_MS: '30000',
      // The circuit as configured by default (CAPA_CIRCUIT_HALF_OPEN_MS 5 s): the 10 s holds with it, not a test value.
    },
  });

  it('the first waiting signup completes within 10 s of recovery, and the backlog drains at a pace, not in a storm', async () => {
    const tag = uniqueId('recovery');
    service.simulator.setFaults({ random: { status500: 1 } });
    const answers = await Promise.all(Array.from({ length: SIGNUPS }, (_, i) => service.call('POST', '/v1/users', { externalUserId: `${tag}-${i}` })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(SIGNUPS).fill(202));
    // The outage goes on a little: the worker's tries fail too, and the circuit opens.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const waiting = await service.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM signups WHERE external_user_id LIKE $1 AND status = 'PENDING' AND next_attempt_at > now() + interval '5 seconds'`,
      [`${tag}-%`],
    );
    expect(waiting.rows[0].n).toBeGreaterThan(SIGNUPS / 2);
    // The worst moment to recover: just after the circuit's probe failed, when it stays open for a whole
    // CAPA_CIRCUIT_HALF_OPEN_MS. The probe is the first call to Capa after a silence (the circuit open).
    expect(await probeSeen(service.simulator.createUserRequestTimes.bind(service.simulator), 20_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));

    service.simulator.setFaults({});
    const recoveredAt = Date.now();
    let firstAt: number | undefined;
    let allAt: number | undefined;
    while (allAt === undefined && Date.now() - recoveredAt < 25_000) {
      const { rows } = await service.query<{ n: number }>(`SELECT count(*)::int AS n FROM signups WHERE external_user_id LIKE $1 AND status = 'CREATED'`, [`${tag}-%`]);
      if (rows[0].n > 0) firstAt ??= Date.now();
      if (rows[0].n === SIGNUPS) allAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(firstAt).toBeDefined();
    expect(firstAt! - recoveredAt).toBeLessThanOrEqual(10_000);
    // The whole backlog follows at its pace (4 s at 5/s), well before the 30 s backoffs would have let it.
    expect(allAt).toBeDefined();
    expect(allAt! - recoveredAt).toBeLessThanOrEqual(18_000);

    // No storm: in every one-second window of the drain, at most twice the drain's pace reached Capa (all at once: 20).
    const times = service.simulator.createUserRequestTimes().filter((at) => at >= recoveredAt).sort((a, b) => a - b);
    expect(times.length).toBeGreaterThanOrEqual(SIGNUPS);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] < times[i] + 1000) j++;
      busiest = Math.max(busiest, j - i);
    }
    expect(busiest).toBeLessThanOrEqual(2 * DRAIN_PER_SECOND);
  }, 60_000);

  it('a lone signup waiting minutes is probed: completed within 10 s of recovery though nothing else calls Capa', async () => {
    const externalUserId = uniqueId('lone');
    service.simulator.setFaults({ random: { status500: 1 } });
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(202);
    // The backoff it would have after many failed attempts: five minutes.
    await service.query(`UPDATE signups SET next_attempt_at = now() + interval '5 minutes' WHERE external_user_id = $1`, [externalUserId]);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    service.simulator.setFaults({});
    const recoveredAt = Date.now();
    let createdAt: number | undefined;
    while (createdAt === undefined && Date.now() - recoveredAt < 15_000) {
      const { rows } = await service.query<{ status: string }>(`SELECT status::text FROM signups WHERE external_user_id = $1`, [externalUserId]);
      if (rows[0].status === 'CREATED') createdAt = Date.now();
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(createdAt).toBeDefined();
    expect(createdAt! - recoveredAt).toBeLessThanOrEqual(10_000);
  }, 30_000);
});

/** Waits until Capa is called again after at least 1.5 s without a call (the circuit's half-open probe). */
async function probeSeen(callTimes: () => number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const seenBefore = callTimes().length;
  while (Date.now() < deadline) {
    const times = callTimes().slice(seenBefore).sort((a, b) => a - b);
    const silenceEnded = times.findIndex((at, i) => i > 0 && at - times[i - 1] >= 1_500);
    const lastSilent = times.length > 0 && silenceEnded < 0 && Date.now() - times[times.length - 1] >= 1_500;
    if (silenceEnded >= 0) return true;
    if (lastSilent) {
      // Silent now: the next call is the probe.
      const count = callTimes().length;
      while (Date.now() < deadline) {
        if (callTimes().length > count) return true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}
