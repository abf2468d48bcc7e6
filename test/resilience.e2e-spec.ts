import { CAPA_KEY, useTestApp, uniqueId, usersPath } from './support/test-app';

const FAST_RECOVERY = {
  REQUEST_DEADLINE_MS: '3000',
  CAPA_TIMEOUT_MS: '1000',
  WORKER_INTERVAL_MS: '100',
  WORKER_BACKOFF_BASE_MS: '100',
  WORKER_BACKOFF_MAX_MS: '400',
  CAPA_CIRCUIT_MIN_CALLS: '5',
  CAPA_CIRCUIT_HALF_OPEN_MS: '500',
};

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('never lose or duplicate a signup', () => {
  const service = useTestApp({ env: FAST_RECOVERY });

  const settled = (externalUserId: string) =>
    waitFor(async () => {
      const response = await service.call('GET', usersPath(externalUserId));
      return response.body.status === 'CREATED' ? response.body : undefined;
    }, 15_000, `${externalUserId} to be CREATED`);

  const circuitOpen = async () => {
    const metrics = await service.call('GET', '/metrics');
    return /capa_circuit_state\{state="open"\} 1/.test(metrics.body);
  };

  it('a total outage answers 202 PENDING; the worker completes it after recovery with no further client request', async () => {
    const externalUserId = uniqueId('outage');
    service.simulator.setFaults({ random: { status500: 1 } });
    const accepted = await service.call('POST', '/v1/users', { externalUserId });
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('PENDING');
    const callsDuringOutage = service.simulator.callsFor(externalUserId);
    expect(callsDuringOutage).toBeGreaterThanOrEqual(2);

    service.simulator.setFaults({});
    const created = await settled(externalUserId);
    expect(created.userId).toBe(service.simulator.userFor(externalUserId)!.userId);
    expect(service.simulator.stats().usersCreated).toBeGreaterThanOrEqual(1);

    const { rows } = await service.query(
      `SELECT a.actor, a.outcome FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 ORDER BY a.id`,
      [externalUserId],
    );
    expect(rows.at(-1)).toEqual({ actor: 'worker', outcome: 'created' });
    expect(rows.filter((row) => row.actor === 'request').every((row) => row.outcome === 'transient')).toBe(true);
    expect(rows.length).toBe(service.simulator.callsFor(externalUserId));
    await waitFor(async () => ((await circuitOpen()) ? undefined : true), 5000, 'circuit to close');
  });

  it('429 with Retry-After: the next call waits at least that long (delay-seconds and HTTP-date)', async () => {
    const seconds = uniqueId('retry-after');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 429, retryAfter: '1' }] });
    const started = Date.now();
    const response = await service.call('POST', '/v1/users', { externalUserId: seconds });
    expect(response.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(service.simulator.callsFor(seconds)).toBe(2);

    const dated = uniqueId('retry-after-date');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 503, retryAfter: new Date(Date.now() + 5000).toUTCString() }] });
    const datedStart = Date.now();
    // Deadline 3 s < Retry-After: the call is not retried in the request; the worker honours it later.
    const accepted = await service.call('POST', '/v1/users', { externalUserId: dated });
    expect(accepted.status).toBe(202);
    expect(Date.now() - datedStart).toBeLessThan(1000);
    const { rows } = await service.query('SELECT next_attempt_at FROM signups WHERE external_user_id = $1', [dated]);
    // HTTP-dates have whole seconds: 5 s from now is at least 4 s away.
    expect(rows[0].next_attempt_at.getTime()).toBeGreaterThanOrEqual(datedStart + 3900);
    await settled(dated);
    expect(Date.now() - datedStart).toBeGreaterThanOrEqual(3900);
  });

  it('401 from Capa (bad or rotated key) keeps the row PENDING, never FAILED, and it completes once the key works', async () => {
    const externalUserId = uniqueId('bad-key');
    const unauthorized = { kind: 'status' as const, status: 401, body: { statusCode: 401, message: 'Invalid API Key', error: 'UNAUTHORIZED' } };
    service.simulator.setFaults({ script: Array(3).fill(unauthorized) });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect([201, 202]).toContain(response.status);
    const { rows } = await service.query(
      `SELECT DISTINCT s.status FROM signups s WHERE s.external_user_id = $1`,
      [externalUserId],
    );
    expect(rows[0].status).not.toBe('FAILED');
    const created = await settled(externalUserId);
    expect(created.status).toBe('CREATED');
    const outcomes = await service.query(
      `SELECT a.outcome FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 ORDER BY a.id`,
      [externalUserId],
    );
    expect(outcomes.rows.slice(0, 3).map((row) => row.outcome)).toEqual(['misconfigured', 'misconfigured', 'misconfigured']);
  });

  it('the circuit opens after a run of failures (requests go straight to 202, Capa is not called), then closes on a successful probe', async () => {
    service.simulator.setFaults({ random: { status500: 1 } });
    await service.call('POST', '/v1/users', { externalUserId: uniqueId('trip') });
    expect(await circuitOpen()).toBe(true);
    const before = service.simulator.stats().requests;
    const started = Date.now();
    const shortCircuited = await service.call('POST', '/v1/users', { externalUserId: uniqueId('while-open') });
    expect(shortCircuited.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(400);
    expect(service.simulator.stats().requests).toBe(before);

    service.simulator.setFaults({});
    await waitFor(async () => ((await circuitOpen()) ? undefined : true), 5000, 'circuit to close');
    const metrics = (await service.call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/capa_circuit_state\{state="closed"\} 1/);
    await settled(shortCircuited.body.externalUserId);
  });

  it('a row leased by another (dead) owner is left alone until the lease expires, then the worker completes it', async () => {
    const externalUserId = uniqueId('orphan');
    const leaseUntil = new Date(Date.now() + 1200);
    await service.query(
      `INSERT INTO signups (external_user_id, status, method, fingerprint, lease_owner, lease_until, next_attempt_at)
       VALUES ($1, 'PENDING', 'NONE', 'x', 'dead-replica', $2, $2)`,
      [externalUserId, leaseUntil],
    );
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(service.simulator.callsFor(externalUserId)).toBe(0);
    await settled(externalUserId);
    expect(Date.now()).toBeGreaterThanOrEqual(leaseUntil.getTime());
    expect(service.simulator.callsFor(externalUserId)).toBe(1);
  });

  it('records every upstream call as an attempt, with the error capped and never the API key', async () => {
    const externalUserId = uniqueId('attempts');
    // The key well inside the cap (a truncated-away key would prove nothing), in a text page and in a JSON message.
    service.simulator.setFaults({
      script: [
        { kind: 'status', status: 500, body: `<html>proxy debug: partner-api-key=${CAPA_KEY} ${'x'.repeat(5000)}</html>` },
        { kind: 'status', status: 503, body: { statusCode: 503, message: `Upstream refused key ${CAPA_KEY}`, error: 'Service Unavailable' } },
      ],
    });
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const { rows } = await service.query(
      `SELECT a.* FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 ORDER BY a.id`,
      [externalUserId],
    );
    expect(rows.map((row) => [row.outcome, row.http_status])).toEqual([
      ['transient', 500],
      ['transient', 503],
      ['created', 201],
    ]);
    expect(rows[0].error_message.length).toBeLessThanOrEqual(1000);
    expect(rows[0].error_message).toContain('partner-api-key=[REDACTED]');
    expect(rows[1].error_message).toBe('Upstream refused key [REDACTED]');
    expect(rows.every((row) => row.latency_ms >= 0 && row.at instanceof Date)).toBe(true);
    const everything = await service.query(`SELECT string_agg(t::text, ' ') AS dump FROM capa_attempts t`);
    const signups = await service.query(`SELECT string_agg(t::text, ' ') AS dump FROM signups t`);
    expect(`${everything.rows[0].dump}${signups.rows[0].dump}`).not.toContain('test-partner-key');
  });
});
