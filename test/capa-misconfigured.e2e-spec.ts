import { uniqueId, usersPath, useTestApp } from './support/test-app';

/** Capa answering 404/405 to create means this service calls the wrong base URL or path: a fault of its own config. */
describe('Capa answering 404 or 405 on create', () => {
  const service = useTestApp({ env: { REQUEST_DEADLINE_MS: '1500', CAPA_TIMEOUT_MS: '500', WORKER_INTERVAL_MS: '100', WORKER_BACKOFF_BASE_MS: '100', WORKER_BACKOFF_MAX_MS: '300', CAPA_CIRCUIT_HALF_OPEN_MS: '300' } });

  it.each([
    [404, { statusCode: 404, message: 'Cannot POST /wrong/api/partner/v1/user', error: 'Not Found' }],
    [405, '<html><body>405 Method Not Allowed</body></html>'],
  ])('%i keeps the row PENDING (202, never FAILED or 422), counts it as misconfigured, and completes once Capa answers', async (status, body) => {
    const externalUserId = uniqueId(`misrouted-${status}`);
    // More faults than one request can try (the in-request count varies with the jittered backoff); cleared below.
    service.simulator.setFaults({ script: Array(50).fill({ kind: 'status', status, body }) });
    const accepted = await service.call('POST', '/v1/users', { externalUserId });
    expect(accepted.status).toBe(202);
    // (Its error is Capa's, or CIRCUIT_OPEN once the breaker counted enough of them.)
    expect(accepted.body).toMatchObject({ status: 'PENDING', userId: null });

    const metrics = await service.call('GET', '/metrics', undefined, {});
    expect(metrics.body).toMatch(/capa_calls_total\{outcome="misconfigured"\} [1-9]/);
    const { rows } = await service.query(
      `SELECT DISTINCT a.outcome FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 AND a.http_status = $2`,
      [externalUserId, status],
    );
    expect(rows.map((row) => row.outcome)).toEqual(['misconfigured']);

    service.simulator.setFaults({});
    let mapping = await service.call('GET', usersPath(externalUserId));
    for (let i = 0; i < 100 && mapping.body.status !== 'CREATED'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      mapping = await service.call('GET', usersPath(externalUserId));
    }
    expect(mapping.body).toMatchObject({ status: 'CREATED', userId: service.simulator.userFor(externalUserId)?.userId });
  });
});
