import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client, QueryResult, QueryResultRow } from 'pg';
import { createApp } from '../../src/app';
import { loadAppConfig } from '../../src/config/app-config';
import { CapaSimulator, CapaSimulatorOptions } from '../../src/sandbox/capa-simulator';
import { createTestDatabase } from './database';

export const INBOUND_TOKEN = 'inbound-token-a';
export const SECOND_INBOUND_TOKEN = 'inbound-token-b';
export const ADMIN_TOKEN = 'admin-token-xyz';
export const CAPA_KEY = 'test-partner-key-123';

export interface TestApp {
  url: string;
  databaseUrl: string;
  simulator: CapaSimulator;
  app: NestFastifyApplication;
  /** fetch against the app with the inbound token (unless headers say otherwise). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** SQL straight to the app's database (one connection, opened on first use), to seed rows and check what is stored. */
  query<R extends QueryResultRow = any>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** `port`: listen there (0: any free port), e.g. when the app's own URL must be in its configuration (ADMIN_PUBLIC_URL). */
export type TestAppOptions = { env?: Record<string, string>; simulator?: CapaSimulatorOptions; port?: number };

/**
 * One test app for the enclosing describe block: started before its tests, simulator faults cleared after each test,
 * closed after all. The returned object stands for the app once started (it forwards to it), so specs read
 * `const service = useTestApp()` and then `service.call(...)` as with startTestApp.
 */
export function useTestApp(options: TestAppOptions = {}): TestApp {
  let started: TestApp | undefined;
  beforeAll(async () => {
    started = await startTestApp(options);
  });
  afterEach(() => started?.simulator.setFaults({}));
  afterAll(async () => {
    await started?.close();
  });
  return forwardTo(() => started, 'useTestApp: the app starts in beforeAll; use it inside a test or hook');
}

/**
 * An object that stands for what `target()` answers once a hook has set it (methods bound to it), so a `use...`
 * helper can hand it out at describe time. Throws `notYet` when used before then.
 */
export function forwardTo<T extends object>(target: () => T | undefined, notYet: string): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const started = target();
      if (started === undefined) throw new Error(notYet);
      const value = Reflect.get(started, key);
      return typeof value === 'function' ? value.bind(started) : value;
    },
  });
}

/**
 * A second app on `primary`'s database and simulator, initialised (its workers and deliverers run) but not listening:
 * a replica. Only the base environment and `env`, not startTestApp's timings.
 */
export async function startReplica(primary: TestApp, env: Record<string, string>): Promise<NestFastifyApplication> {
  const replica = await createApp(
    loadAppConfig({
      NODE_ENV: 'test',
      DATABASE_URL: primary.databaseUrl,
      CAPA_BASE_URL: primary.simulator.url,
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: INBOUND_TOKEN,
      ADMIN_API_KEY: ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      ...env,
    }),
  );
  await replica.init();
  return replica;
}

/** The real app over real HTTP, on a fresh database of the real PostgreSQL, talking to a fresh simulator. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const simulator = new CapaSimulator({ apiKeys: [CAPA_KEY], ...options.simulator });
  const capaUrl = await simulator.start();
  const config = loadAppConfig({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    CAPA_BASE_URL: capaUrl,
    CAPA_PARTNER_API_KEY: CAPA_KEY,
    INBOUND_API_KEYS: `${INBOUND_TOKEN},${SECOND_INBOUND_TOKEN}`,
    ADMIN_API_KEY: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    CAPA_TIMEOUT_MS: '1000',
    REQUEST_DEADLINE_MS: '3000',
    WORKER_INTERVAL_MS: '100',
    // Off unless a test asks for it: the reconciler's calls would take the simulator's scripted faults.
    CAPA_RECONCILE_INTERVAL_MS: '0',
    ...options.env,
  });
  const app = await createApp(config);
  await app.listen(options.port ?? 0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  let client: Promise<Client> | undefined;
  const connection = () =>
    (client ??= (async () => {
      const opened = new Client({ connectionString: database.url });
      await opened.connect();
      return opened;
    })());
  return {
    url,
    databaseUrl: database.url,
    simulator,
    app,
    call: (method, path, body, headers) => request(url, method, path, body, headers),
    query: async (sql, params) => (await connection()).query(sql, params),
    async close() {
      if (client !== undefined) await (await client).end();
      await app.close();
      await simulator.stop();
      await database.drop();
    },
  };
}

export async function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const init: RequestInit = {
    method,
    headers: {
      authorization: `Bearer ${INBOUND_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
  };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

export function usersPath(externalUserId: string): string {
  return `/v1/users/${encodeURIComponent(externalUserId)}`;
}

/** A TCP port free at this moment on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let counter = 0;
export function uniqueId(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
