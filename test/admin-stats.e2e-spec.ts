import SwaggerParser from '@apidevtools/swagger-parser';
import { ADMIN_TOKEN, TestApp, TestResponse, useTestApp, uniqueId } from './support/test-app';

describe('GET /admin/stats', () => {
  // A service of its own: counts since boot and rows in the database are then exactly what this file made.
  const service = useTestApp();

  const stats = (): Promise<TestResponse> => service.call('GET', '/admin/stats', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
  const signUp = (faults: Parameters<TestApp['simulator']['setFaults']>[0] = {}) => {
    service.simulator.setFaults(faults);
    return service.call('POST', '/v1/users', { externalUserId: uniqueId('stats') });
  };

  it('starts empty: zero counts, no calls, no latency yet, circuit closed, 24 empty hours', async () => {
    const response = await stats();
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      total: 0,
      byStatus: { PENDING: 0, CREATED: 0, FAILED: 0, NEEDS_ATTENTION: 0 },
      capa: { calls: 0, failures: 0, failureRate: 0, latencyMs: { p50: null, p99: null }, retryBudget: { allowed: 0, refused: 0 }, circuit: 'closed' },
    });
    expect(response.body.signupsOverTime).toHaveLength(24);
  });

  it('counts rows by status and per hour, and the Capa calls this process made', async () => {
    expect((await signUp()).status).toBe(201);
    expect((await signUp()).status).toBe(201);
    // A 503 first: retried within the request, so two calls (one failed) for one CREATED row.
    expect((await signUp({ script: [{ kind: 'status', status: 503 }] })).status).toBe(201);
    expect((await signUp({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: 'bad', error: 'BAD_REQUEST' } }] })).status).toBe(422);
    expect((await signUp({ script: [{ kind: 'status', status: 409, body: { message: 'User already exists' } }] })).status).toBe(202);

    await service.query(
      `INSERT INTO signups (external_user_id, status, method, fingerprint, created_at) VALUES
         ('seeded-pending-1', 'PENDING', 'NONE', 'seeded', now()),
         ('seeded-pending-2', 'PENDING', 'NONE', 'seeded', now()),
         ('seeded-old-created', 'CREATED', 'NONE', 'seeded', now() - interval '30 hours')`,
    );

    const response = await stats();
    expect(response.status).toBe(200);
    const body = response.body;
    expect(body.total).toBe(8);
    expect(body.byStatus).toEqual({ PENDING: 2, CREATED: 4, FAILED: 1, NEEDS_ATTENTION: 1 });
    expect(body.capa).toEqual({
      calls: 6,
      failures: 1,
      failureRate: 1 / 6,
      byOutcome: { created: 3, rejected: 1, 'exists-without-id': 1, misconfigured: 0, transient: 1 },
      latencyMs: { p50: expect.any(Number), p99: expect.any(Number) },
      // The retry after the 503, sent within the retry budget.
      retryBudget: { allowed: 1, refused: 0 },
      circuit: 'closed',
    });
    expect(body.capa.latencyMs.p99).toBeGreaterThanOrEqual(body.capa.latencyMs.p50);

    const hours: Array<Record<string, number | string>> = body.signupsOverTime;
    expect(hours).toHaveLength(24);
    const starts = hours.map((hour) => Date.parse(hour.bucket as string));
    expect(starts.every((start, index) => index === 0 || start - starts[index - 1] === 3_600_000)).toBe(true);
    expect(starts[23]).toBe(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const sum = (status: string) => hours.reduce((total, hour) => total + (hour[status] as number), 0);
    // The row created 30 hours ago is counted in byStatus but lies outside the chart's 24 hours.
    expect({ PENDING: sum('PENDING'), CREATED: sum('CREATED'), FAILED: sum('FAILED'), NEEDS_ATTENTION: sum('NEEDS_ATTENTION') }).toEqual({
      PENDING: 2,
      CREATED: 3,
      FAILED: 1,
      NEEDS_ATTENTION: 1,
    });
  });

  it('documents every admin route in the OpenAPI document, with bearer auth and the error shape', async () => {
    const response = await service.call('GET', '/docs-json');
    expect(response.status).toBe(200);
    await SwaggerParser.validate(structuredClone(response.body));
    const paths = response.body.paths;
    const operations: Array<[string, string, string[]]> = [
      ['/admin/users', 'get', ['200', '400', '401', '403']],
      ['/admin/users/{externalUserId}', 'get', ['200', '401', '403', '404']],
      ['/admin/users/{externalUserId}/retry', 'post', ['200', '401', '403', '404', '409', '503']],
      ['/admin/users/{externalUserId}/resolve', 'post', ['200', '400', '401', '403', '404', '409', '413', '415', '503']],
      ['/admin/stats', 'get', ['200', '401', '403']],
    ];
    for (const [path, method, statuses] of operations) {
      const operation = paths[path]?.[method];
      expect({ path, tags: operation?.tags, security: operation?.security }).toEqual({ path, tags: ['admin'], security: [{ bearer: [] }] });
      expect(Object.keys(operation.responses).sort()).toEqual(statuses);
      for (const status of statuses.filter((code) => code !== '200')) {
        expect(operation.responses[status].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorBodyDoc' });
      }
    }
    expect(paths['/admin/ui']).toBeUndefined();
  });
});
