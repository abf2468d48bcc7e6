import { Client } from 'pg';
import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { createTestDatabase } from './support/database';
import { ServiceProcess } from './support/service-process';
import { request } from './support/test-app';

const CAPA_KEY = 'capa-secret-key-0f9e8d7c';
const INBOUND = 'inbound-secret-token-1a2b3c';
const ADMIN = 'admin-secret-token-4d5e6f';

/** The compiled service as a child process: health, graceful SIGTERM drain, structured logs without secrets. */
describe('operations (real child process)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: CapaSimulator;
  let service: ServiceProcess;

  beforeAll(async () => {
    database = await createTestDatabase('capa_ops');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    service = await ServiceProcess.start({
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      CAPA_BASE_URL: await simulator.start(),
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: `${INBOUND},second-inbound-token`,
      ADMIN_API_KEY: ADMIN,
      LOG_LEVEL: 'debug',
      REQUEST_DEADLINE_MS: '5000',
      WORKER_INTERVAL_MS: '200',
      SHUTDOWN_DELAY_MS: '500',
    });
  });

  afterAll(async () => {
    await service.kill().catch(() => undefined);
    await simulator.stop();
    await database.drop();
  });

  const auth = { authorization: `Bearer ${INBOUND}` };

  it('liveness and readiness answer 200 with terminus bodies', async () => {
    const live = await request(service.url, 'GET', '/health/live', undefined, {});
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok' });
    const ready = await request(service.url, 'GET', '/health/ready', undefined, {});
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, lifecycle: { status: 'up' } } });
  });

  it('echoes x-request-id (or makes one) and logs one JSON line per request carrying it', async () => {
    const response = await request(service.url, 'GET', '/v1/users/nobody', undefined, { ...auth, 'x-request-id': 'trace-abc-123' });
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('trace-abc-123');
    const generated = await request(service.url, 'GET', '/v1/users/nobody', undefined, auth);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await request(service.url, 'GET', '/v1/users/nobody', undefined, { ...auth, 'x-request-id': 'bad id with spaces' });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    await new Promise((resolve) => setTimeout(resolve, 200));
    const lines = service.logs.split('\n').filter((line) => line.includes('trace-abc-123'));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ req: { id: 'trace-abc-123', method: 'GET', url: '/v1/users/nobody' }, res: { statusCode: 404 }, responseTime: expect.any(Number) });
  });

  it('logs the Capa call outcome and latency, and no key, token or authorization anywhere in the logs', async () => {
    simulator.setFaults({ script: [{ kind: 'status', status: 500, body: { message: 'boom' } }] });
    const created = await request(service.url, 'POST', '/v1/users', { externalUserId: 'logged-user' }, { ...auth, 'x-request-id': 'trace-capa-1' });
    expect(created.status).toBe(201);
    await request(service.url, 'GET', '/admin/stats', undefined, { authorization: `Bearer ${ADMIN}` });
    await request(service.url, 'GET', '/v1/users/x', undefined, { authorization: 'Bearer wrong-token-value' });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const capaLines = service.logs
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.capaOutcome !== undefined && entry.externalUserId === 'logged-user');
    expect(capaLines.map((entry) => [entry.capaOutcome, entry.httpStatus, typeof entry.latencyMs, entry.reqId ?? entry.req?.id])).toEqual([
      ['transient', 500, 'number', 'trace-capa-1'],
      ['created', 201, 'number', 'trace-capa-1'],
    ]);
    for (const secret of [CAPA_KEY, INBOUND, ADMIN, 'second-inbound-token', 'wrong-token-value']) {
      expect(service.logs).not.toContain(secret);
    }
    expect(service.logs.toLowerCase()).not.toContain('partner-api-key');
    expect(service.logs).not.toMatch(/"authorization"/i);
  });

  it('serves Prometheus metrics without ids or secrets in labels', async () => {
    const metrics = await request(service.url, 'GET', '/metrics', undefined, {});
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = metrics.body as string;
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/users",status="201"\} 1/);
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/users\/:externalUserId",status="404"\}/);
    expect(text).toMatch(/capa_calls_total\{outcome="created"\} 1/);
    expect(text).toMatch(/capa_calls_total\{outcome="transient"\} 1/);
    expect(text).toMatch(/capa_call_duration_seconds_count\{outcome="created"\} 1/);
    expect(text).toMatch(/signups\{status="CREATED"\} 1/);
    expect(text).toMatch(/signup_worker_backlog 0/);
    expect(text).toMatch(/capa_circuit_state\{state="closed"\} 1/);
    expect(text).toMatch(/process_resident_memory_bytes/);
    for (const leak of ['logged-user', 'nobody', CAPA_KEY, INBOUND, ADMIN]) expect(text).not.toContain(leak);
  });

  it('security basics: helmet headers and no x-powered-by', async () => {
    const response = await request(service.url, 'GET', '/health/live', undefined, {});
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
  });

  it('SIGTERM: readiness turns 503, in-flight requests finish (created and not), no lease is left, the process exits 0', async () => {
    // One in-flight signup whose Capa call hangs until the request deadline (it ends PENDING, for the worker), and one
    // that Capa answers slowly (it ends CREATED): both must settle and let go of their leases before the exit.
    simulator.setFaults({ script: [{ kind: 'timeout' }], timeoutHangMs: 60_000 });
    const hanging = request(service.url, 'POST', '/v1/users', { externalUserId: 'hanging-during-shutdown' }, auth);
    while (simulator.callsFor('hanging-during-shutdown') === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    simulator.setFaults({ latencyMs: 1500 });
    const inFlight = request(service.url, 'POST', '/v1/users', { externalUserId: 'during-shutdown' }, auth);
    while (simulator.callsFor('during-shutdown') === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    service.signal('SIGTERM');

    const readiness: Array<number | string> = [];
    const exit = service.exited();
    let exited = false;
    void exit.then(() => (exited = true));
    while (!exited) {
      try {
        readiness.push((await request(service.url, 'GET', '/health/ready', undefined, {})).status);
      } catch {
        readiness.push('refused');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const answer = await inFlight;
    expect(answer.status).toBe(201);
    const accepted = await hanging;
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'PENDING', error: { code: 'TIMEOUT' } });
    expect(await exit).toEqual({ code: 0, signal: null });
    // Logs are written asynchronously: everything up to the exit is flushed, the drained request's line included.
    const lines = service.logs.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    const signalled = lines.findIndex((entry) => String(entry.msg).startsWith('SIGTERM received'));
    expect(signalled).toBeGreaterThanOrEqual(0);
    expect(lines.slice(signalled)).toContainEqual(expect.objectContaining({ req: expect.objectContaining({ method: 'POST', url: '/v1/users' }), res: { statusCode: 201 } }));
    // A poll may land before the signal is handled; from the first non-200 on: 503 while still serving, then refused.
    const afterSignal = readiness.slice(readiness.findIndex((status) => status !== 200));
    expect(afterSignal[0]).toBe(503);
    expect(afterSignal).not.toContain(200);
    expect(afterSignal.filter((status) => status === 503).length).toBeGreaterThanOrEqual(3);

    const db = new Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query(`SELECT count(*)::int AS held FROM signups WHERE lease_owner IS NOT NULL OR lease_until IS NOT NULL`);
    const pending = await db.query(`SELECT status::text, next_attempt_at FROM signups WHERE external_user_id = 'hanging-during-shutdown'`);
    await db.end();
    expect(rows[0].held).toBe(0);
    expect(pending.rows[0]).toMatchObject({ status: 'PENDING', next_attempt_at: expect.any(Date) });
  });
});
