import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { createTestDatabase } from './support/database';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { RecordingProxy } from './support/recording-proxy';
import { OtlpReceiver, SPAN_KIND, spanTree, type ExportedSpan } from './support/otlp-receiver';
import { ServiceProcess, freePort } from './support/service-process';
import { WEBHOOK_ENV, WEBHOOK_SECRET } from './support/webhooks';
import { signCapaPayload } from '../src/capa-webhooks/webhook-signature';
import { ADMIN_TOKEN, CAPA_KEY, INBOUND_TOKEN, request } from './support/test-app';
import { ndjson } from './support/imports';

const SECRET = newWebhookSecret();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function post(baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INBOUND_TOKEN}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** The JSON log lines of a service process. */
function logLines(service: ServiceProcess): Array<Record<string, any>> {
  return service.logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

describe('tracing: OpenTelemetry over OTLP (compiled service as a child process)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let simulator: CapaSimulator;
  let capa: RecordingProxy;
  let collector: OtlpReceiver;
  let events: EventReceiver;
  let env: Record<string, string>;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('capa_tracing');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    capa = new RecordingProxy(await simulator.start());
    collector = new OtlpReceiver();
    events = new EventReceiver(SECRET);
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      CAPA_BASE_URL: await capa.start(),
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: INBOUND_TOKEN,
      ADMIN_API_KEY: ADMIN_TOKEN,
      REQUEST_DEADLINE_MS: '3000',
      CAPA_TIMEOUT_MS: '2000',
      WORKER_INTERVAL_MS: '200',
      WORKER_BACKOFF_BASE_MS: '100',
      WORKER_BACKOFF_MAX_MS: '300',
      EVENT_WEBHOOK_URLS: await events.start(),
      EVENT_WEBHOOK_SECRET: SECRET,
      EVENT_WEBHOOK_ALLOW_HTTP: 'true',
      EVENT_DELIVERY_INTERVAL_MS: '100',
      LOG_LEVEL: 'info',
    };
    await collector.start();
  });

  afterEach(async () => {
    simulator.setFaults({});
    await Promise.all(processes.splice(0).map((service) => service.kill()));
  });

  afterAll(async () => {
    await Promise.all([capa?.stop(), collector?.stop(), events?.stop()]);
    await simulator?.stop();
    await database?.drop();
  });

  async function start(overrides: Record<string, string> = {}): Promise<ServiceProcess> {
    const service = await ServiceProcess.start({ ...env, ...overrides });
    processes.push(service);
    return service;
  }

  const traced = {
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  };

  it('POST /v1/users: a SERVER span under the caller, a CLIENT span to Capa with traceparent, pg spans, ids in the logs', async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const externalUserId = `trace-${hex(4)}`;
    const identifier = `secret-${hex(6)}@example.com`;
    const alias = `alias-${hex(6)}`;
    const answer = await post(
      service.url,
      '/v1/users',
      { externalUserId, method: 'EMAIL', identifier, alias },
      { traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(answer.status).toBe(201);

    let server: ExportedSpan | undefined;
    await eventually(() => (server = collector.spans().find((span) => span.traceId === traceId && span.kind === SPAN_KIND.SERVER)) !== undefined, 10_000);
    const inTrace = () => collector.spans().filter((span) => span.traceId === traceId);
    await eventually(() => inTrace().some((span) => span.kind === SPAN_KIND.CLIENT && span.attributes['db.system.name'] === undefined), 5_000);
    const spans = inTrace();

    expect(server).toBeDefined();
    expect(server!.name).toBe('POST /v1/users');
    expect(server!.parentSpanId).toBe(callerSpanId);
    expect(server!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/users', 'http.response.status_code': 201 });
    expect(server!.service).toBe('capa-onboarding');

    const capaCall = spans.find((span) => span.kind === SPAN_KIND.CLIENT && String(span.attributes['url.full'] ?? '').startsWith(capa.url));
    expect(capaCall).toBeDefined();
    const reached = capa.calls.find((call) => String(call.headers.traceparent ?? '').includes(traceId));
    expect(reached?.headers.traceparent).toBe(`00-${traceId}-${capaCall!.spanId}-01`);

    const database = spans.filter((span) => span.attributes['db.system.name'] === 'postgresql' || span.attributes['db.system'] === 'postgresql');
    expect(database.length).toBeGreaterThan(0);
    for (const span of database) expect(span.kind).toBe(SPAN_KIND.CLIENT);

    // Nothing secret anywhere in what was exported (names, attributes, events, links, resource).
    for (const secret of [identifier, alias, CAPA_KEY, INBOUND_TOKEN, ADMIN_TOKEN, SECRET]) expect(collector.raw).not.toContain(secret);

    // Every log line written while the request was traced carries its trace id, the request line included.
    const requestLine = logLines(service).find((line) => line.msg === 'request completed' && line.req?.url === '/v1/users' && line.trace_id === traceId);
    expect(requestLine).toMatchObject({ trace_id: traceId, span_id: server!.spanId });
    if (process.env.TRACE_DUMP) console.log(spanTree(inTrace()));
  });

  it("an unsampled caller's trace exports nothing but still reaches Capa; a dead collector costs one warn line, no request", async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    const traceId = hex(16);
    expect((await post(service.url, '/v1/users', { externalUserId: `trace-unsampled-${hex(4)}` }, { traceparent: `00-${traceId}-${hex(8)}-00` })).status).toBe(201);
    expect(capa.calls.find((call) => String(call.headers.traceparent ?? '').includes(traceId))?.headers.traceparent).toMatch(/-00$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(collector.spans().filter((span) => span.traceId === traceId)).toEqual([]);

    const dead = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, OTEL_EXPORTER_OTLP_TIMEOUT: '300' });
    for (let index = 0; index < 5; index++) {
      expect((await post(dead.url, '/v1/users', { externalUserId: `trace-dead-${hex(4)}` })).status).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(await eventually(() => logLines(dead).some((line) => String(line.msg).startsWith('Trace export failed')), 10_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(logLines(dead).filter((line) => String(line.msg).startsWith('Trace export failed'))).toHaveLength(1);
  });

  it('an event push is a span linked to the request that wrote the event, and its POST carries traceparent', async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    const traceId = hex(16);
    const externalUserId = `trace-push-${hex(4)}`;
    expect((await post(service.url, '/v1/users', { externalUserId }, { traceparent: `00-${traceId}-${hex(8)}-01` })).status).toBe(201);

    expect(await eventually(() => events.delivered.some((delivery) => delivery.body.externalUserId === externalUserId), 15_000)).toBe(true);
    const delivery = events.delivered.find((entry) => entry.body.externalUserId === externalUserId)!;
    expect(delivery.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, pushTraceId, pushSpanId] = delivery.traceparent!.split('-');

    const pushSpans = () => collector.spans().filter((span) => span.traceId === pushTraceId);
    await eventually(() => pushSpans().some((span) => span.name === 'event delivery') && pushSpans().some((span) => span.spanId === pushSpanId), 10_000);
    const drive = pushSpans().find((span) => span.name === 'event delivery');
    const post_ = pushSpans().find((span) => span.spanId === pushSpanId);
    expect(drive?.links.map((link) => link.traceId)).toContain(traceId);
    expect(post_).toMatchObject({ kind: SPAN_KIND.CLIENT, parentSpanId: drive!.spanId });
    expect(post_!.attributes['http.request.method']).toBe('POST');
    expect(collector.raw).not.toContain(SECRET);
  });

  it('webhook intake: a SERVER span for POST /webhooks/capa; the event it writes is pushed in a span linked to it', async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, ...WEBHOOK_ENV });
    const externalUserId = `trace-kyc-${hex(4)}`;
    expect((await post(service.url, '/v1/users', { externalUserId })).status).toBe(201);
    const traceId = hex(16);
    const raw = JSON.stringify({ type: 'KYC', event: 'VERIFIED_USER', externalUserId });
    const intake = await fetch(`${service.url}/webhooks/capa`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'capa-signature': signCapaPayload(raw, WEBHOOK_SECRET), traceparent: `00-${traceId}-${hex(8)}-01` },
      body: raw,
    });
    expect(intake.status).toBe(200);

    const pushed = () => events.delivered.find((entry) => entry.body.externalUserId === externalUserId && entry.body.type === 'kyc.status_changed');
    expect(await eventually(() => pushed() !== undefined, 15_000)).toBe(true);
    const [, pushTraceId] = pushed()!.traceparent!.split('-');
    const spanOf = (find: (span: ExportedSpan) => boolean) => collector.spans().find(find);
    await eventually(() => spanOf((span) => span.traceId === pushTraceId && span.name === 'event delivery') !== undefined, 10_000);
    const server = spanOf((span) => span.traceId === traceId && span.kind === SPAN_KIND.SERVER);
    expect(server?.name).toBe('POST /webhooks/capa');
    expect(spanOf((span) => span.traceId === pushTraceId && span.name === 'event delivery')!.links).toEqual([{ traceId, spanId: server!.spanId }]);
    expect(collector.raw).not.toContain(WEBHOOK_SECRET);
  });

  it('a worker retry (Capa answered 500 to the request) is a span of its own trace, linked to the request', async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, REQUEST_DEADLINE_MS: '1000' });
    const traceId = hex(16);
    const externalUserId = `trace-retry-${hex(4)}`;
    simulator.setFaults({ random: { status500: 1 } });
    const accepted = await post(service.url, '/v1/users', { externalUserId }, { traceparent: `00-${traceId}-${hex(8)}-01` });
    expect(accepted.status).toBe(202);
    simulator.setFaults({});

    const retry = () =>
      collector.spans().find((span) => span.name === 'signup retry' && span.attributes['signup.external_user_id'] === externalUserId);
    expect(await eventually(() => retry() !== undefined, 20_000)).toBe(true);
    const drive = retry()!;
    expect(drive.traceId).not.toBe(traceId);
    expect(drive.parentSpanId).toBe('');
    expect(drive.links.map((link) => link.traceId)).toEqual([traceId]);
    // Its Capa call is its child, and the call carried the drive's trace to Capa.
    await eventually(() => collector.spans().some((span) => span.traceId === drive.traceId && span.kind === SPAN_KIND.CLIENT && span.parentSpanId === drive.spanId), 5_000);
    expect(capa.calls.some((call) => String(call.headers.traceparent ?? '').startsWith(`00-${drive.traceId}-`))).toBe(true);
  });

  it('an import row is driven in a span of its own trace, linked to the upload request', async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, IMPORT_CAPA_RPS: '50' });
    const traceId = hex(16);
    const externalUserId = `trace-import-${hex(4)}`;
    const uploaded = await request(service.url, 'POST', '/v1/imports', ndjson([{ externalUserId }]), {
      'content-type': 'application/x-ndjson',
      authorization: `Bearer ${INBOUND_TOKEN}`,
      traceparent: `00-${traceId}-${hex(8)}-01`,
    });
    expect(uploaded.status).toBe(202);
    const row = () => collector.spans().find((span) => span.name === 'import row' && span.attributes['signup.external_user_id'] === externalUserId);
    expect(await eventually(() => row() !== undefined, 20_000)).toBe(true);
    expect(row()!.traceId).not.toBe(traceId);
    expect(row()!.links.map((link) => link.traceId)).toEqual([traceId]);
    expect(collector.spans().find((span) => span.traceId === traceId && span.kind === SPAN_KIND.SERVER)?.name).toBe('POST /v1/imports');
  });

  it('idle: background polls export nothing', async () => {
    const service = await start({ ...traced, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
    // Work the tests before left may finish here first (the import row's signup.created, pushed by this process when
    // the last one stopped before pushing it): wait until nothing was exported for a second. Polls that exported
    // spans would never let it get quiet (they run every 100 ms here).
    let seen = collector.spans().length;
    let quietSince = Date.now();
    const quiet = () => {
      if (collector.spans().length !== seen) [seen, quietSince] = [collector.spans().length, Date.now()];
      return Date.now() - quietSince >= 1000;
    };
    expect(await eventually(quiet, 15_000)).toBe(true);
    const before = collector.spans().length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(collector.spans().slice(before).filter((span) => span.service === 'capa-onboarding')).toEqual([]);
    expect(service.pid).toBeDefined();
  });

  it('off without an endpoint, and off with OTEL_SDK_DISABLED=true: no OpenTelemetry SDK is loaded, nothing is exported; on, SIGTERM flushes', async () => {
    const preload = { NODE_OPTIONS: `--require ${join(__dirname, 'support', 'report-loaded-modules.js')}` };
    const traceId = hex(16);
    const loadedPackages = async (overrides: Record<string, string>) => {
      const service = await start({ ...traced, ...preload, ...overrides });
      expect((await post(service.url, '/v1/users', { externalUserId: `trace-off-${hex(4)}` }, { traceparent: `00-${traceId}-${hex(8)}-01` })).status).toBe(201);
      await service.stop('SIGTERM');
      const report = logLines(service).find((line) => 'loadedOpenTelemetryPackages' in line);
      return report?.loadedOpenTelemetryPackages as string[];
    };
    // prom-client loads the API package (a no-op without an SDK) for its exemplars; nothing else may be loaded.
    const apiOnly = ['@opentelemetry/api'];
    const exportedBefore = collector.bodies.length;
    expect(await loadedPackages({})).toEqual(apiOnly);
    expect(await loadedPackages({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SDK_DISABLED: 'true' })).toEqual(apiOnly);
    expect(collector.bodies.length).toBe(exportedBefore);
    // The same check sees the SDK when tracing is on (so the answers above mean something), and it exports on SIGTERM.
    // A batch delay of 10 minutes: only the flush on SIGTERM can have exported the request's spans.
    const on = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`, OTEL_BSP_SCHEDULE_DELAY: '600000' };
    expect(await loadedPackages(on)).toContain('@opentelemetry/sdk-node');
    expect(collector.spans().filter((span) => span.traceId === traceId && span.name === 'POST /v1/users')).toHaveLength(1);
  });
});
