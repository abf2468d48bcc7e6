import { encodePageCursor } from '../src/common/page-cursor';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ADMIN_TOKEN, TestApp, startTestApp, uniqueId, useTestApp, usersPath } from './support/test-app';
import { WEBHOOK_ENV, deliver } from './support/webhooks';

const SECRET = newWebhookSecret();
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const IDENTIFIER = 'timeline.person@example.com';
const ALIAS = 'Timeline Alias Secret';

const timelinePath = (externalUserId: string, query = '') => `/admin/users/${encodeURIComponent(externalUserId)}/timeline${query}`;

describe('GET /admin/users/{externalUserId}/timeline: one user’s whole story', () => {
  let service: TestApp;
  // Every event's first push is answered 500, the second acknowledged.
  const receiver = new EventReceiver(SECRET, { failFirst: 1 });

  beforeAll(async () => {
    const endpoint = await receiver.start();
    service = await startTestApp({
      env: {
        ...WEBHOOK_ENV,
        EVENT_WEBHOOK_URLS: endpoint,
        EVENT_WEBHOOK_SECRET: SECRET,
        EVENT_WEBHOOK_ALLOW_HTTP: 'true',
        EVENT_RETRY_BASE_MS: '50',
        EVENT_RETRY_MAX_MS: '100',
        EVENT_DELIVERY_INTERVAL_MS: '50',
        REQUEST_DEADLINE_MS: '1000',
        WORKER_BACKOFF_BASE_MS: '100',
        WORKER_BACKOFF_MAX_MS: '200',
      },
    });
  });

  afterAll(async () => {
    await service?.close();
    await receiver.stop();
  });

  async function deliveredCount(externalUserId: string): Promise<number> {
    const { rows } = await service.query(
      `SELECT count(*)::int AS n FROM event_deliveries WHERE external_user_id = $1 AND status = 'DELIVERED'`,
      [externalUserId],
    );
    return rows[0].n;
  }

  async function readAll(externalUserId: string, limit: number): Promise<{ items: any[]; pages: number }> {
    const items: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
      const page = await service.call('GET', timelinePath(externalUserId, query), undefined, ADMIN);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(limit);
      items.push(...page.body.items);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    return { items, pages };
  }

  it('tells a 500 then the worker’s create, a link, a webhook and its redelivery, two events and their pushes, in order, over pages', async () => {
    const id = uniqueId('timeline/user?#');

    // Capa answers 500 with a Retry-After past the request's deadline: 202, and the worker creates the user.
    service.simulator.setFaults({ script: [{ kind: 'status', status: 500, retryAfter: '1' }] });
    const accepted = await service.call('POST', '/v1/users', { externalUserId: id, method: 'EMAIL', identifier: IDENTIFIER, alias: ALIAS });
    expect(accepted.status).toBe(202);
    expect(await eventually(async () => (await service.call('GET', usersPath(id))).body.status === 'CREATED', 15_000)).toBe(true);
    // signup.created is pushed: refused once, then acknowledged.
    expect(await eventually(async () => (await deliveredCount(id)) === 1, 15_000)).toBe(true);

    const link = await service.call('POST', `${usersPath(id)}/verification-link`, { country: 'DE' });
    expect(link.status).toBe(200);
    const linkText = link.body.link as string;

    const webhook = { type: 'KYC', event: 'VERIFIED_USER', externalUserId: id };
    expect((await deliver(service, webhook)).body.outcome).toBe('applied');
    expect(await eventually(async () => (await deliveredCount(id)) === 2, 15_000)).toBe(true);
    expect((await deliver(service, webhook)).body.outcome).toBe('duplicate');

    const { items, pages } = await readAll(id, 3);
    expect(pages).toBeGreaterThanOrEqual(5);
    // Newest first.
    expect(items.map((item) => `${item.kind}${item.details.outcome === undefined ? '' : ` ${item.details.outcome}`}`)).toEqual([
      'capa.webhook duplicate',
      'event.delivery delivered',
      'event.delivery failed',
      'event',
      'kyc.status',
      'capa.webhook applied',
      'verification.link_issued',
      'capa.attempt answered',
      'event.delivery delivered',
      'event.delivery failed',
      'event',
      'signup.status',
      'capa.attempt created',
      'capa.attempt transient',
      'signup.accepted',
    ]);
    const times = items.map((item) => Date.parse(item.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const [duplicate, kycDelivered, kycFailed, kycEvent, kycStatus, applied, issued, linkCall, createdDelivered, createdFailed, createdEvent, status, created, failed, signup] = items;
    expect(signup.details).toEqual({ source: 'api', importId: null });
    expect(failed.details).toEqual({ operation: 'create', outcome: 'transient', httpStatus: 500, latencyMs: expect.any(Number), errorCode: expect.any(String), by: 'request' });
    expect(created.details).toMatchObject({ operation: 'create', outcome: 'created', httpStatus: 201, errorCode: null, by: 'worker' });
    expect(status.details).toEqual({ from: 'PENDING', to: 'CREATED' });
    expect(createdEvent.details).toEqual({ id: expect.any(String), type: 'signup.created' });
    expect(createdFailed.details).toEqual({
      eventId: createdEvent.details.id,
      eventType: 'signup.created',
      endpoint: receiver.url,
      attempt: 1,
      outcome: 'failed',
      httpStatus: 500,
      error: 'HTTP 500',
    });
    expect(createdDelivered.details).toMatchObject({ eventId: createdEvent.details.id, attempt: 2, outcome: 'delivered', endpoint: receiver.url });
    expect(linkCall.details).toMatchObject({ operation: 'kyc-link', outcome: 'answered', by: 'request' });
    expect(issued.details).toEqual({ kind: 'KYC', country: 'DE' });
    expect(applied.details).toMatchObject({ type: 'KYC', event: 'VERIFIED_USER', outcome: 'applied', kycStatus: 'VERIFIED' });
    expect(kycStatus.details).toEqual({ from: 'NOT_STARTED', to: 'VERIFIED', capaEvent: 'VERIFIED_USER' });
    expect(kycEvent.details).toEqual({ id: expect.any(String), type: 'kyc.status_changed' });
    expect(kycFailed.details).toMatchObject({ eventId: kycEvent.details.id, attempt: 1, outcome: 'failed' });
    expect(kycDelivered.details).toMatchObject({ eventId: kycEvent.details.id, attempt: 2, outcome: 'delivered' });
    expect(duplicate.details).toMatchObject({ event: 'VERIFIED_USER', outcome: 'duplicate' });
    for (const item of items) expect(typeof item.summary).toBe('string');
    expect(failed.summary).toBe(`Capa create call by a request: transient (HTTP 500, ${failed.details.errorCode}, ${failed.details.latencyMs} ms)`);

    // Never the identifier, the alias or the link, anywhere in an item.
    const whole = JSON.stringify(items);
    for (const secret of [IDENTIFIER, ALIAS, linkText]) expect(whole).not.toContain(secret);

    // One page of everything is the same story, and so is every page size: items at one instant (a link call and the
    // link, a webhook with its status change and event) are never lost or repeated at a page boundary.
    const single = await service.call('GET', timelinePath(id, '?limit=100'), undefined, ADMIN);
    expect(single.body).toEqual({ items, nextCursor: null });
    for (const limit of [1, 2, 4]) expect((await readAll(id, limit)).items).toEqual(items);
  }, 60_000);

  it('answers 404 NOT_FOUND for an unknown user and 400 for a bad limit or cursor', async () => {
    const unknown = await service.call('GET', timelinePath('nobody-here'), undefined, ADMIN);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });

    const id = uniqueId('timeline-bad');
    expect((await service.call('POST', '/v1/users', { externalUserId: id })).status).toBe(201);
    const first = await service.call('GET', timelinePath(id, '?limit=1'), undefined, ADMIN);
    expect(first.status).toBe(200);
    expect(first.body.nextCursor).toEqual(expect.any(String));

    const listCursor = encodePageCursor(5n);
    const [at, , lastId] = Buffer.from(first.body.nextCursor, 'base64url').toString('utf8').split('.');
    const unknownSource = Buffer.from(`${at}.99.${lastId}`).toString('base64url');
    const notCanonical = Buffer.from(`0${at}.1.${lastId}`).toString('base64url');
    const bad = ['?limit=0', '?limit=101', '?limit=ten', '?limit=1.5', '?cursor=not-a-cursor', `?cursor=${listCursor}`, `?cursor=${unknownSource}`, `?cursor=${notCanonical}`];
    for (const query of bad) {
      const response = await service.call('GET', timelinePath(id, query), undefined, ADMIN);
      expect({ query, status: response.status, code: response.body.code }).toEqual({ query, status: 400, code: 'VALIDATION_FAILED' });
      expect(response.body).toMatchObject({ statusCode: 400, message: expect.any(String), details: expect.any(Array) });
    }
    // Default limit and a blank cursor.
    expect((await service.call('GET', timelinePath(id, '?cursor='), undefined, ADMIN)).status).toBe(200);
    // An inbound token is not an admin token.
    expect((await service.call('GET', timelinePath(id))).status).toBe(401);
  });

  it('shows what operators did to the user (its audit rows) as operator.action items: what, by whom, how it ended', async () => {
    const id = uniqueId('timeline-operator');
    const other = uniqueId('timeline-operator-other');
    for (const externalUserId of [id, other]) expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    const userPath = (externalUserId: string) => `/admin/users/${encodeURIComponent(externalUserId)}`;
    const refreshed = await service.call('POST', `${userPath(id)}/kyc/refresh`, undefined, ADMIN);
    const retried = await service.call('POST', `${userPath(id)}/retry`, undefined, ADMIN);
    expect((await service.call('POST', `${userPath(other)}/retry`, undefined, ADMIN)).status).toBe(retried.status);
    const outcomeOf = (status: number) => (status < 400 ? 'succeeded' : 'failed');

    const { items } = await readAll(id, 1);
    const actions = items.filter((item) => item.kind === 'operator.action');
    expect(actions.map((item) => [item.details.action, item.details.outcome, item.details.actor, item.details.via])).toEqual([
      ['user.retry', outcomeOf(retried.status), 'api-key', 'api-key'],
      ['user.kyc_refresh', outcomeOf(refreshed.status), 'api-key', 'api-key'],
    ]);
    for (const action of actions) expect(action.summary).toMatch(/^Operator api-key \(api-key\): user\.(retry|kyc_refresh) /);
    // Newest first, after the signup's own items: the first item is the retry, the last the acceptance.
    expect(items[0].kind).toBe('operator.action');
    expect(items.at(-1).kind).toBe('signup.accepted');
  });
});

describe('GET /admin/users/{externalUserId}/timeline: a long history', () => {
  const service = useTestApp();

  it('pages through 10,000 items whole and in order (the time per page is printed, not asserted)', async () => {
    const id = uniqueId('timeline-long');
    expect((await service.call('POST', '/v1/users', { externalUserId: id })).status).toBe(201);
    const { rows } = await service.query<{ id: string; created_at: Date }>('SELECT id::text, created_at FROM signups WHERE external_user_id = $1', [id]);
    const signupId = rows[0].id;
    // A long retry history, many status changes, webhooks and events, spread over the hours after the signup.
    const at = (i: string) => `$2::timestamptz + (${i} * interval '1 second')`;
    await service.query(
      `INSERT INTO capa_attempts (signup_id, at, actor, outcome, http_status, latency_ms, error_code)
       SELECT $1, ${at('g')}, 'worker', 'transient', 503, 10, 'HTTP_503' FROM generate_series(1, 4000) g`,
      [signupId, rows[0].created_at],
    );
    await service.query(
      `INSERT INTO signup_status_changes (signup_id, at, from_status, to_status)
       SELECT $1, ${at('g * 2')}, 'FAILED', 'PENDING' FROM generate_series(1, 2000) g`,
      [signupId, rows[0].created_at],
    );
    await service.query(
      `INSERT INTO capa_webhook_inbox (received_at, sha256, body, outcome, type, event, external_user_id)
       SELECT ${at('g * 3')}, md5(g::text), '{}', 'duplicate', 'KYC', 'VERIFIED_USER', $1 FROM generate_series(1, 2000) g`,
      [id, rows[0].created_at],
    );
    await service.query(
      `INSERT INTO outbox_events (type, occurred_at, external_user_id, data)
       SELECT 'kyc.status_changed', ${at('g * 4')}, $1, '{"status":"VERIFIED","previousStatus":"IN_PROGRESS","capaEvent":"VERIFIED_USER"}'
       FROM generate_series(1, 1000) g`,
      [id, rows[0].created_at],
    );
    await service.query('ANALYZE');

    const { rows: counted } = await service.query(
      `SELECT (SELECT count(*) FROM capa_attempts WHERE signup_id = $1)
            + (SELECT count(*) FROM signup_status_changes WHERE signup_id = $1)
            + (SELECT count(*) FROM capa_webhook_inbox WHERE external_user_id = $2)
            + (SELECT count(*) FROM outbox_events WHERE external_user_id = $2)
            + (SELECT count(*) FROM outbox_events WHERE external_user_id = $2 AND type = 'kyc.status_changed') + 1 AS n`,
      [signupId, id],
    );
    const expected = Number(counted[0].n);
    expect(expected).toBeGreaterThanOrEqual(10_000);

    const timings: number[] = [];
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const started = performance.now();
      const page = await service.call('GET', timelinePath(id, `?limit=50${cursor === null ? '' : `&cursor=${cursor}`}`), undefined, ADMIN);
      timings.push(performance.now() - started);
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(expected);
    const keys = seen.map((item) => JSON.stringify(item));
    expect(new Set(keys).size).toBe(expected);
    const times = seen.map((item) => Date.parse(item.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(seen.at(-1).kind).toBe('signup.accepted');

    const sorted = [...timings].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1);
    console.log(`timeline of ${expected} items: ${timings.length} pages of 50, ms per page p50 ${pct(0.5)} p99 ${pct(0.99)} max ${pct(1)}`);
  }, 120_000);
});
