import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from './support/database';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ServiceProcess } from './support/service-process';
import { CapaSimulator } from '../src/sandbox/capa-simulator';

const CAPA_KEY = 'lazy-capa-key';
const INBOUND_TOKEN = 'lazy-inbound-token-0123456789';
const ADMIN_TOKEN = 'lazy-admin-token-0123456789';
const SECRET = newWebhookSecret();
/** Loaded only by the features that need them (BENCHMARKS.md, issue 20: boot time and memory). */
const ON_DEMAND = ['openid-client', 'jose', 'undici', '@electric-sql/pglite', '@electric-sql/pglite-socket'];

interface LoadReport {
  loadedPackages: string[];
  loadedSandbox: boolean;
}

/** A service configured with DATABASE_URL loads neither PGlite nor the simulator, nor what only sign-in and pushes use. */
describe('lazy loading (compiled service as a child process)', () => {
  let database: TestDatabase;
  let simulator: CapaSimulator;
  let events: EventReceiver;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase('capa_lazy');
    simulator = new CapaSimulator({ apiKeys: [CAPA_KEY] });
    events = new EventReceiver(SECRET);
    env = {
      NODE_ENV: 'test',
      NODE_OPTIONS: `--require ${join(__dirname, 'support', 'report-loaded-modules.js')}`,
      DATABASE_URL: database.url,
      CAPA_BASE_URL: await simulator.start(),
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: INBOUND_TOKEN,
      ADMIN_API_KEY: ADMIN_TOKEN,
      CAPA_RECONCILE_INTERVAL_MS: '0',
      EVENT_DELIVERY_INTERVAL_MS: '100',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    await events?.stop();
    await simulator?.stop();
    await database?.drop();
  });

  /** Starts the service, runs `use` against it, stops it and answers what it had loaded. */
  async function loadedBy(overrides: Record<string, string>, use: (service: ServiceProcess) => Promise<void>): Promise<LoadReport> {
    const service = await ServiceProcess.start({ ...env, ...overrides });
    try {
      await use(service);
    } finally {
      await service.stop('SIGTERM');
    }
    const line = service.logs.split('\n').find((text) => text.includes('"loadedPackages"'));
    expect(line).toBeDefined();
    return JSON.parse(line!) as LoadReport;
  }

  const signUp = async (service: ServiceProcess, externalUserId: string) => {
    const answer = await fetch(`${service.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INBOUND_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ externalUserId }),
    });
    expect(answer.status).toBe(201);
  };

  it('a signup and an admin read with neither sign-in nor event endpoints configured load none of them', async () => {
    const report = await loadedBy({}, async (service) => {
      await signUp(service, 'lazy-plain');
      const admin = await fetch(`${service.url}/admin/users/lazy-plain`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(admin.status).toBe(200);
    });
    expect(report.loadedPackages).toContain('@nestjs/core');
    expect(report.loadedPackages.filter((name) => ON_DEMAND.includes(name))).toEqual([]);
    expect(report.loadedSandbox).toBe(false);
  });

  it('the same check sees undici once an event is pushed, and openid-client once sign-in is tried', async () => {
    const receiverUrl = await events.start();
    const report = await loadedBy(
      {
        EVENT_WEBHOOK_URLS: receiverUrl,
        EVENT_WEBHOOK_SECRET: SECRET,
        EVENT_WEBHOOK_ALLOW_HTTP: 'true',
        // An issuer nobody answers: the login route tries discovery (503), which is enough to need the library.
        ADMIN_OIDC_ISSUER: 'http://127.0.0.1:9/realms/none',
        ADMIN_OIDC_CLIENT_ID: 'capa-onboarding',
        ADMIN_PUBLIC_URL: 'http://127.0.0.1:3000',
      },
      async (service) => {
        await signUp(service, 'lazy-pushed');
        expect(await eventually(() => events.delivered.some((event) => event.body.externalUserId === 'lazy-pushed'), 10_000)).toBe(true);
        const login = await fetch(`${service.url}/admin/login`, { redirect: 'manual' });
        expect(login.status).toBe(503);
      },
    );
    expect(report.loadedPackages).toEqual(expect.arrayContaining(['undici', 'openid-client']));
  });
});
