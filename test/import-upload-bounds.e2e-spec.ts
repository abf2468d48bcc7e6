import { PrismaService } from '../src/persistence/prisma.service';
import { allRowErrors, ndjson, openUpload, upload } from './support/imports';
import { useTestApp } from './support/test-app';

const DEADLINE_MS = 3000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` NDJSON rows `${tag}-${from..}`: more than a batch (2000 rows), so the server has staged some when it waits. */
const rows = (tag: string, ids: number[]) => ndjson(ids.map((i) => ({ externalUserId: `${tag}-${i}` })));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('uploads never block live calls or each other, and are bounded (real PostgreSQL, real HTTP)', () => {
  const service = useTestApp({
    env: {
      REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      IMPORT_CAPA_RPS: '1',
      IMPORT_MAX_UPLOADS: '2',
      DB_STATEMENT_TIMEOUT_MS: '31000',
      DB_LOCK_TIMEOUT_MS: '4000',
      DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '61000',
    },
  });

  it('a live signup for the id on line 1 of a still-streaming upload is answered within the deadline; the import then counts it', async () => {
    const tag = `line1-${Date.now()}`;
    const open = openUpload(service.url);
    // Line 1: the same payload the live call sends; line 2: a payload the live call contradicts.
    await open.write(ndjson([{ externalUserId: `${tag}-same` }, { externalUserId: `${tag}-other`, alias: 'from the file' }]) + rows(tag, range(1, 2500)));
    await pause(500); // the server reads and stages the first batch; the upload stays open

    const started = performance.now();
    const [same, other] = await Promise.all([
      service.call('POST', '/v1/users', { externalUserId: `${tag}-same` }),
      service.call('POST', '/v1/users', { externalUserId: `${tag}-other`, alias: 'from the live call' }),
    ]);
    const tookMs = performance.now() - started;
    expect([same.status, other.status]).toEqual([201, 201]);
    expect(tookMs).toBeLessThan(DEADLINE_MS);

    const answer = await open.end(rows(tag, range(2501, 3000)));
    expect(answer.status).toBe(202);
    expect(answer.body.counts).toMatchObject({ rows: 3002, invalid: 0, alreadyRegistered: 1, conflicts: 1 });
    const errors = await allRowErrors(service.url, answer.body.id);
    expect(errors).toEqual([expect.objectContaining({ line: 2, externalUserId: `${tag}-other`, code: 'EXTERNAL_USER_ID_CONFLICT' })]);
    expect((await service.call('GET', `/v1/users/${tag}-other`)).body.alias).toBe('from the live call');
    await service.call('POST', `/v1/imports/${answer.body.id}/cancel`);
  }, 30_000);

  it('two uploads streaming at once with crossing ids both complete, every id exactly one signup', async () => {
    const tag = `cross-${Date.now()}`;
    const n = 5000;
    const up = range(1, n);
    const down = [...up].reverse();
    const a = openUpload(service.url);
    const b = openUpload(service.url);
    await Promise.all([a.write(rows(tag, up.slice(0, n / 2))), b.write(rows(tag, down.slice(0, n / 2)))]);
    await pause(500);
    const [answerA, answerB] = await Promise.all([a.end(rows(tag, up.slice(n / 2))), b.end(rows(tag, down.slice(n / 2)))]);
    expect([answerA.status, answerB.status]).toEqual([202, 202]);
    // Each id became one signup of one of the two imports; the other counts it as already registered.
    for (const answer of [answerA, answerB]) expect(answer.body.counts).toMatchObject({ rows: n, invalid: 0, conflicts: 0 });
    const staged = answerA.body.counts.pending + answerB.body.counts.pending;
    expect(staged).toBe(n);
    expect(answerA.body.counts.alreadyRegistered + answerB.body.counts.alreadyRegistered).toBe(n);
    const { rows: stored } = await service.query(`SELECT count(*)::int AS signups, count(DISTINCT external_user_id)::int AS ids FROM signups WHERE external_user_id LIKE $1`, [`${tag}-%`]);
    expect(stored[0]).toEqual({ signups: n, ids: n });
    await service.call('POST', `/v1/imports/${answerA.body.id}/cancel`);
    await service.call('POST', `/v1/imports/${answerB.body.id}/cancel`);
  }, 30_000);

  it('30 uploads at once: beyond IMPORT_MAX_UPLOADS they get 429 TOO_MANY_UPLOADS + Retry-After, while live signups all succeed', async () => {
    const tag = `cap-${Date.now()}`;
    const slow = [openUpload(service.url), openUpload(service.url)];
    await Promise.all(slow.map((open, k) => open.write(rows(`${tag}-slow${k}`, range(1, 10)))));
    await pause(300);
    const extras = await Promise.all(range(1, 28).map((k) => upload(service.url, rows(`${tag}-extra${k}`, range(1, 5)))));
    const live = await Promise.all(range(1, 20).map((i) => service.call('POST', '/v1/users', { externalUserId: `${tag}-live-${i}` })));
    for (const extra of extras) {
      expect(extra.status).toBe(429);
      expect(extra.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_UPLOADS' });
      expect(Number(extra.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(live.map((answer) => answer.status)).toEqual(live.map(() => 201));
    const finished = await Promise.all(slow.map((open) => open.end()));
    expect(finished.map((answer) => answer.status)).toEqual([202, 202]);
    // The slots are free again.
    expect((await upload(service.url, rows(`${tag}-after`, range(1, 5)))).status).toBe(202);
  }, 30_000);

  it('NUL in an NDJSON or CSV row is a row error naming the field; the other rows are staged', async () => {
    const tag = `nul-${Date.now()}`;
    const json = await upload(service.url, ndjson([{ externalUserId: `${tag}-j1` }, { externalUserId: `${tag}-j2`, alias: 'a\u0000b' }, { externalUserId: `${tag}-j3` }]));
    expect(json.status).toBe(202);
    expect(json.body.counts).toMatchObject({ rows: 3, invalid: 1 });
    expect(json.body.counts.pending + json.body.counts.created).toBe(2);
    expect(await allRowErrors(service.url, json.body.id)).toEqual([
      expect.objectContaining({ line: 2, externalUserId: `${tag}-j2`, code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'alias' })] }),
    ]);

    const csv = await upload(service.url, `externalUserId,alias\n${tag}-c1,fine\n${tag}-c2,a\u0000b\n${tag}-c3,\n`, 'text/csv');
    expect(csv.status).toBe(202);
    expect(csv.body.counts).toMatchObject({ rows: 3, invalid: 1 });
    expect(await allRowErrors(service.url, csv.body.id)).toEqual([
      expect.objectContaining({ line: 3, externalUserId: `${tag}-c2`, code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field: 'alias' })] }),
    ]);
    const { rows: stored } = await service.query(`SELECT external_user_id FROM signups WHERE external_user_id LIKE $1 ORDER BY 1`, [`${tag}-%`]);
    expect(stored.map((row) => row.external_user_id)).toEqual([`${tag}-c1`, `${tag}-c3`, `${tag}-j1`, `${tag}-j3`]);
  }, 30_000);

  it("the pool's sessions run with DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS and DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", async () => {
    const pool = service.app.get(PrismaService).pool;
    const { rows: settings } = await pool.query(
      `SELECT name, setting FROM pg_settings WHERE name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout') ORDER BY name`,
    );
    expect(settings).toEqual([
      { name: 'idle_in_transaction_session_timeout', setting: '61000' },
      { name: 'lock_timeout', setting: '4000' },
      { name: 'statement_timeout', setting: '31000' },
    ]);
  });
});

describe('a stalled upload (real PostgreSQL, real HTTP)', () => {
  const service = useTestApp({ env: { IMPORT_IDLE_TIMEOUT_MS: '500', IMPORT_CAPA_RPS: '1' } });

  it('is aborted after IMPORT_IDLE_TIMEOUT_MS and leaves nothing: no import, no signups, no staging tables', async () => {
    const tag = `stall-${Date.now()}`;
    const open = openUpload(service.url);
    await open.write(rows(tag, range(1, 2500)));
    const started = performance.now();
    // Bounded wait: the server ends the request soon after 500 ms of silence (10 s is far beyond that).
    const outcome = await Promise.race([open.closed.then(() => 'closed'), pause(10_000).then(() => 'still open')]);
    expect(outcome).toBe('closed');
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    await pause(300);
    const { rows: left } = await service.query(
      `SELECT (SELECT count(*) FROM imports)::int AS imports,
              (SELECT count(*) FROM signups WHERE external_user_id LIKE $1)::int AS signups,
              (SELECT count(*) FROM pg_class WHERE relname LIKE 'import\\_%' AND relpersistence = 't')::int AS staging`,
      [`${tag}-%`],
    );
    expect(left[0]).toEqual({ imports: 0, signups: 0, staging: 0 });
    // The slot is free again and the service works.
    expect((await upload(service.url, rows(`${tag}-after`, range(1, 3)))).status).toBe(202);
  }, 30_000);
});
