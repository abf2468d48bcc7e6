import type { Client } from 'pg';
import { DatabaseNotifications } from '../src/persistence/database-notifications';
import { PrismaService } from '../src/persistence/prisma.service';
import { WEBHOOK_ENV, deliver } from './support/webhooks';
import { uniqueId, useTestApp } from './support/test-app';

const MAPPINGS = 20;
const ROUNDS = 25;

/**
 * Reads and replays of CREATED mappings are answered from memory (DESIGN.md, "Reads at memory speed"): a guard that
 * counts what they take from the database pool, so a change that makes a cached read touch the database again fails
 * here, on any machine, however fast or loaded.
 */
describe('cached mappings: database round trips of reads and replays', () => {
  // The workers idle (no due rows) and pass rarely, so the pool's checkouts are the requests' own.
  const service = useTestApp({ env: { WORKER_INTERVAL_MS: '600000', ...WEBHOOK_ENV } });

  it('answers GET and replayed POST of CREATED mappings with < 0.05 pool checkouts per request, sending nothing to Capa', async () => {
    const tag = uniqueId('cached');
    const bodies = Array.from({ length: MAPPINGS }, (_, i) => ({ externalUserId: `${tag}-${i}`, method: 'EMAIL', identifier: `${tag}-${i}@example.com` }));
    for (const body of bodies) expect((await service.call('POST', '/v1/users', body)).status).toBe(201);
    // First reads fill the cache (one database read each).
    for (const body of bodies) expect((await service.call('GET', `/v1/users/${body.externalUserId}`)).status).toBe(200);
    const capaCalls = service.simulator.stats().requests;

    const pool = service.app.get(PrismaService).pool;
    let checkouts = 0;
    const count = () => (checkouts += 1);
    pool.on('acquire', count);
    let requests = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const answers = await Promise.all(
          bodies.flatMap((body) => [service.call('GET', `/v1/users/${body.externalUserId}`), service.call('POST', '/v1/users', body)]),
        );
        requests += answers.length;
        expect(answers.map((answer) => answer.status)).toEqual(bodies.flatMap(() => [200, 200]));
        expect(answers.filter((_, i) => i % 2 === 1).every((answer) => answer.headers.get('idempotent-replayed') === 'true')).toBe(true);
      }
    } finally {
      pool.off('acquire', count);
    }
    expect(requests).toBe(MAPPINGS * ROUNDS * 2);
    expect(checkouts / requests).toBeLessThan(0.05);
    expect(service.simulator.stats().requests).toBe(capaCalls);
  });

  it('a new signup takes three round trips: its insert, its attempt and the settle, which records that the call was made', async () => {
    const pool = service.app.get(PrismaService).pool;
    const ids = Array.from({ length: 5 }, () => uniqueId('new-trips'));
    // The signup flow's statements (its read by id, insert, call-started mark, attempt and settle); the workers' own
    // statements on the same pool (an import or event poll) are not the request's.
    const flow = /^(SELECT .* FROM signups WHERE external_user_id = \$1|INSERT INTO signups|UPDATE signups SET call_started_at|INSERT INTO capa_attempts|WITH settled AS)/;
    const statements: string[] = [];
    const query = pool.query;
    jest.spyOn(pool, 'query').mockImplementation(function (this: unknown, ...args: unknown[]) {
      const config = args[0] as string | { text: string };
      const text = (typeof config === 'string' ? config : config.text).replace(/\s+/g, ' ').trim();
      if (flow.test(text)) statements.push(text.slice(0, 40));
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof pool.query);
    try {
      for (const externalUserId of ids) expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    } finally {
      jest.restoreAllMocks();
    }
    expect(statements).toHaveLength(ids.length * 3);
    const { rows } = await pool.query<{ external_user_id: string; call_started_at: Date | null }>(
      'SELECT external_user_id, call_started_at FROM signups WHERE external_user_id = ANY($1)',
      [ids],
    );
    expect(rows).toHaveLength(ids.length);
    for (const row of rows) expect(row.call_started_at).toBeInstanceOf(Date);
  });

  it('shows its cache on /metrics: the entries it holds, and reads answered from memory (hit) or the database (miss)', async () => {
    const scrape = async () => {
      const text = (await service.call('GET', '/metrics')).body as string;
      const value = (series: string) => {
        const line = text.split('\n').find((l) => l.startsWith(`${series} `));
        if (line === undefined) throw new Error(`no ${series} on /metrics`);
        return Number(line.slice(series.length + 1));
      };
      return {
        entries: value('mapping_cache_entries'),
        hits: value('mapping_cache_lookups_total{result="hit"}'),
        misses: value('mapping_cache_lookups_total{result="miss"}'),
      };
    };
    const tag = uniqueId('cache-metrics');
    const ids = [`${tag}-a`, `${tag}-b`, `${tag}-c`];
    for (const externalUserId of ids) expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const before = await scrape();
    // Each id: one read from the database (a miss that fills the cache), then four from memory.
    for (let i = 0; i < 5; i++) for (const externalUserId of ids) expect((await service.call('GET', `/v1/users/${externalUserId}`)).status).toBe(200);
    const after = await scrape();
    expect(after.misses - before.misses).toBe(ids.length);
    expect(after.hits - before.hits).toBe(ids.length * 4);
    expect(after.entries - before.entries).toBe(ids.length);
  });

  it('a conflicting payload for a cached mapping is still 409, and a mapping that is not CREATED is read each time', async () => {
    const externalUserId = uniqueId('cached-conflict');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    expect((await service.call('GET', `/v1/users/${externalUserId}`)).status).toBe(200);
    const conflict = await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'other@example.com' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('EXTERNAL_USER_ID_CONFLICT');

    service.simulator.setFaults({ random: { status500: 1 } });
    const pendingId = uniqueId('cached-pending');
    expect((await service.call('POST', '/v1/users', { externalUserId: pendingId })).status).toBe(202);
    const pool = service.app.get(PrismaService).pool;
    let checkouts = 0;
    const count = () => (checkouts += 1);
    pool.on('acquire', count);
    try {
      for (let i = 0; i < 5; i++) expect((await service.call('GET', `/v1/users/${pendingId}`)).body.status).toBe('PENDING');
    } finally {
      pool.off('acquire', count);
    }
    expect(checkouts).toBeGreaterThanOrEqual(5);
  });

  it('the replica that made a change answers it at once, before the database notification arrives', async () => {
    const externalUserId = uniqueId('cached-local');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const kyc = async () => (await service.call('GET', `/v1/users/${externalUserId}`)).body.kyc;
    expect((await kyc()).status).toBe('NOT_STARTED');
    // The notification session stays up but its deliveries are held back, as on a slow network: only what this
    // replica tells itself can make the next read fresh.
    const session = (service.app.get(DatabaseNotifications) as unknown as { client: Client }).client;
    const held = session.listeners('notification') as Array<(message: unknown) => void>;
    session.removeAllListeners('notification');
    try {
      expect((await kyc()).status).toBe('NOT_STARTED');
      expect((await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId })).body.outcome).toBe('applied');
      expect((await kyc()).status).toBe('IN_PROGRESS');
      const link = await service.call('POST', `/v1/users/${externalUserId}/verification-link`, { country: 'DE' });
      expect(link.status).toBe(200);
      expect((await kyc()).linkIssuedAt).toBe(link.body.issuedAt);
    } finally {
      for (const listener of held) session.on('notification', listener);
    }
  });
});
