import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app';
import { loadAppConfig } from '../src/config/app-config';
import { AUDITED_ROUTES } from '../src/audit/audited-routes';
import { CapaSimulator } from '../src/sandbox/capa-simulator';
import { TestDatabase, createTestDatabase } from './support/database';
import { ADMIN_TOKEN, CAPA_KEY, INBOUND_TOKEN } from './support/test-app';

/** A request with exactly these headers (test-app's request() adds the inbound token by default). */
async function send(baseUrl: string, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const hasBody = ['POST', 'PUT', 'PATCH'].includes(method);
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: hasBody ? { 'content-type': 'application/json', ...headers } : headers,
    body: hasBody ? '{}' : undefined,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body };
}

/**
 * Routes open without a token on purpose (DESIGN.md): health, metrics, API docs, the operator page's static files,
 * and Capa's webhook receiver (its signature is the authentication: test/capa-webhooks.e2e-spec.ts).
 */
const PUBLIC_ROUTES = [/^\/health\//, /^\/metrics$/, /^\/docs/, /^\/admin\/ui/, /^\/webhooks\/capa$/, /^\/admin\/(login|callback)$/];

/** Deny by default: every route of the running app, as Fastify registered it, answers 401 without a token unless public. */
describe('every non-public route needs a token', () => {
  let database: TestDatabase;
  let simulator: CapaSimulator;
  let app: NestFastifyApplication;
  let url: string;
  const routes: Array<{ method: string; path: string }> = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    app = await createApp(
      loadAppConfig({
        DATABASE_URL: database.url,
        CAPA_BASE_URL: await simulator.start(),
        CAPA_PARTNER_API_KEY: CAPA_KEY,
        INBOUND_API_KEYS: INBOUND_TOKEN,
        ADMIN_API_KEY: ADMIN_TOKEN,
        LOG_LEVEL: 'silent',
        WORKER_INTERVAL_MS: '60000',
      }),
    );
    // Registered before listen(), which is when Nest adds its routes to Fastify: every route passes through here.
    app.getHttpAdapter().getInstance().addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, path: route.url });
    });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
    await simulator.stop();
    await database.drop();
  });

  const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, 'some-id').replace(/\*$/, 'x');
  const isPublic = (path: string) => PUBLIC_ROUTES.some((pattern) => pattern.test(path));

  it('the app has the routes this test expects to cover', () => {
    const paths = routes.map((route) => `${route.method} ${route.path}`);
    expect(paths).toEqual(expect.arrayContaining(['POST /v1/users', 'GET /v1/users/:externalUserId', 'GET /admin/stats', 'POST /admin/users/:externalUserId/resolve', 'GET /health/ready']));
  });

  it('answers 401 UNAUTHORIZED without a token, with a wrong token, and with the other audience\'s token, on every non-public route', async () => {
    const guarded = routes.filter((route) => !isPublic(route.path) && route.method !== 'OPTIONS');
    expect(guarded.length).toBeGreaterThanOrEqual(10);
    const failures: string[] = [];
    for (const route of guarded) {
      const path = concrete(route.path);
      const wrongAudience = route.path.startsWith('/admin') ? INBOUND_TOKEN : ADMIN_TOKEN;
      const headerSets: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-a-token' }, { authorization: `Bearer ${wrongAudience}` }];
      for (const headers of headerSets) {
        const response = await send(url, route.method, path, headers);
        const shapeOk = route.method === 'HEAD' || response.body?.code === 'UNAUTHORIZED';
        if (response.status !== 401 || !shapeOk) failures.push(`${route.method} ${path} (${JSON.stringify(headers)}): ${response.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect(simulator.stats().requests).toBe(0);
  });

  it('every write under /admin is audited (AUDITED_ROUTES), except signing out, which audits itself', () => {
    const writes = routes.filter((route) => route.path.startsWith('/admin') && !['GET', 'HEAD', 'OPTIONS'].includes(route.method)).map((route) => `${route.method} ${route.path}`);
    expect(writes.length).toBeGreaterThanOrEqual(5);
    expect(writes.filter((route) => route !== 'POST /admin/logout' && AUDITED_ROUTES[route] === undefined)).toEqual([]);
  });

  it('the public routes answer without a token', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics', '/docs-json', '/admin/ui']) {
      expect([path, (await send(url, 'GET', path, {})).status]).toEqual([path, 200]);
    }
  });
});
