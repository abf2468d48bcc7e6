import { once } from 'node:events';
import { IncomingHttpHeaders, Server, createServer, request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { createTestDatabase } from './support/database';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { OtlpReceiver, SPAN_KIND, type ExportedSpan } from './support/otlp-receiver';
import { ServiceProcess } from './support/service-process';
import { ADMIN_TOKEN, CAPA_KEY, INBOUND_TOKEN } from './support/test-app';

const SECRET = newWebhookSecret();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Forwards every call to the simulator and keeps the headers each one arrived with (traceparent among them). */
class RecordingProxy {
  readonly calls: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
  private readonly server: Server;
  url = '';

  constructor(private readonly target: string) {
    this.server = createServer((incoming, answer) => {
      this.calls.push({ method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers });
      const forwarded = httpRequest(`${this.target}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      });
      forwarded.on('error', () => answer.destroy());
      incoming.pipe(forwarded);
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return (this.url = `http://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close').catch(() => undefined);
  }
}

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
    const dump = spans.map((span) => `${span.name} kind=${span.kind} ${JSON.stringify(span.attributes)}`).join('\n');

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
    if (process.env.TRACE_DUMP) console.log(dump);
  });
});
