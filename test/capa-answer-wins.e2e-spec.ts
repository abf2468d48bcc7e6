import { Logger } from '@nestjs/common';
import { TestApp, uniqueId, useTestApp } from './support/test-app';

const SLOW_FIRST_ANSWER = { firstCallLatencyMs: 1500 };
const DRIVE_ENV = { REQUEST_DEADLINE_MS: '6000', CAPA_TIMEOUT_MS: '5000', WORKER_INTERVAL_MS: '50' };

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The drive's lease is lost under its live call (a stalled process, a far-off clock): the worker may now take the row. */
async function loseLease(service: TestApp, externalUserId: string): Promise<void> {
  await service.query(
    `UPDATE signups SET lease_until = now() - interval '1 second', next_attempt_at = now() - interval '1 second' WHERE external_user_id = $1`,
    [externalUserId],
  );
}

afterEach(() => jest.restoreAllMocks());

const rowOf = async (service: TestApp, externalUserId: string) =>
  (await service.query(`SELECT status::text, capa_user_id FROM signups WHERE external_user_id = $1`, [externalUserId])).rows[0];

const attemptsOf = async (service: TestApp, externalUserId: string) =>
  (
    await service.query(
      `SELECT a.actor, a.outcome, a.capa_user_id FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 ORDER BY a.id`,
      [externalUserId],
    )
  ).rows.map((row) => [row.actor, row.outcome, row.capa_user_id]);

describe('a userId from Capa always wins', () => {
  describe('Capa answers a repeat with an error, and the repeat comes back first', () => {
    const service = useTestApp({ simulator: { duplicateMode: 'error' }, env: DRIVE_ENV });

    it('the row goes NEEDS_ATTENTION, then CREATED with the late userId; the caller gets its 201', async () => {
      service.simulator.setFaults(SLOW_FIRST_ANSWER);
      const externalUserId = uniqueId('overtaken');
      const answer = service.call('POST', '/v1/users', { externalUserId });
      await until(() => service.simulator.userFor(externalUserId) !== undefined);
      await loseLease(service, externalUserId);
      await until(async () => (await rowOf(service, externalUserId))?.status === 'NEEDS_ATTENTION');

      const response = await answer;
      const userId = service.simulator.userFor(externalUserId)?.userId;
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ status: 'CREATED', userId });
      expect(await rowOf(service, externalUserId)).toEqual({ status: 'CREATED', capa_user_id: userId });
      expect(await attemptsOf(service, externalUserId)).toEqual([
        ['worker', 'exists-without-id', null],
        ['request', 'created', userId],
      ]);
    });
  });

  describe('Capa answers a second, different userId for a CREATED signup', () => {
    const service = useTestApp({ env: DRIVE_ENV });

    it('the first userId stays, the second is kept in the attempt log, counted and logged at error level', async () => {
      const errors = jest.spyOn(Logger.prototype, 'error');
      service.simulator.setFaults(SLOW_FIRST_ANSWER);
      const externalUserId = uniqueId('two-ids');
      const answer = service.call('POST', '/v1/users', { externalUserId });
      await until(() => service.simulator.userFor(externalUserId) !== undefined);
      const late = service.simulator.userFor(externalUserId)!.userId;
      // Capa forgets the user (a staging reset): the worker's repeat creates another one and settles first.
      service.simulator.reset();
      await loseLease(service, externalUserId);
      await until(async () => (await rowOf(service, externalUserId))?.status === 'CREATED');
      const first = (await rowOf(service, externalUserId)).capa_user_id;
      expect(first).not.toBe(late);

      const response = await answer;
      expect(response.status).toBe(201);
      expect(response.body.userId).toBe(first);
      expect(await rowOf(service, externalUserId)).toEqual({ status: 'CREATED', capa_user_id: first });
      expect(await attemptsOf(service, externalUserId)).toEqual([
        ['worker', 'created', first],
        ['request', 'created', late],
      ]);
      const metrics = await service.call('GET', '/metrics', undefined, {});
      expect(metrics.body).toMatch(/capa_user_id_conflicts_total\{kind="second-user-id"\} 1/);
      expect(metrics.body).not.toContain(late);
      expect(errors).toHaveBeenCalledWith(
        { externalUserId, keptUserId: first, answeredUserId: late },
        expect.stringContaining('second, different userId'),
      );
    });
  });
});

describe("a drive's lease outlasts its call", () => {
  const service = useTestApp({ env: { REQUEST_DEADLINE_MS: '3000', CAPA_TIMEOUT_MS: '3000' } });

  it('lasts past the request deadline by more than a pooled-connection wait (5 s), on the database clock', async () => {
    service.simulator.setFaults({ firstCallLatencyMs: 1000 });
    const externalUserId = uniqueId('lease-length');
    const started = Date.now();
    const answer = service.call('POST', '/v1/users', { externalUserId });
    await until(() => service.simulator.userFor(externalUserId) !== undefined);
    const { rows } = await service.query(
      `SELECT lease_owner, extract(epoch from (lease_until - now())) * 1000 AS left_ms FROM signups WHERE external_user_id = $1`,
      [externalUserId],
    );
    const deadlineLeftMs = 3000 - (Date.now() - started);
    expect(Number(rows[0].left_ms)).toBeGreaterThan(deadlineLeftMs + 5000);
    // The owner names this drive, not just this process: two drives of one process never share a lease.
    expect(rows[0].lease_owner).toMatch(/:[0-9a-f-]{36}$/);
    expect((await answer).status).toBe(201);
  });
});
