import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, useTestApp, uniqueId, usersPath } from './support/test-app';

/** Every signup settle writes its event in the same statement; no event without its change, none twice. */
describe('signup events in the outbox', () => {
  const service = useTestApp({ env: { WORKER_BACKOFF_BASE_MS: '50', WORKER_BACKOFF_MAX_MS: '100' } });

  const eventsOf = async (externalUserId: string) => {
    const { rows } = await service.query(
      'SELECT type, user_id AS "userId", data FROM outbox_events WHERE external_user_id = $1 ORDER BY writer_xid, position',
      [externalUserId],
    );
    return rows;
  };

  it('CREATED -> one signup.created with Capa’s userId; a replay writes nothing more', async () => {
    const externalUserId = uniqueId('created');
    const created = await service.call('POST', '/v1/users', { externalUserId });
    expect(created.status).toBe(201);
    await service.call('POST', '/v1/users', { externalUserId });
    expect(await eventsOf(externalUserId)).toEqual([
      { type: 'signup.created', userId: created.body.userId, data: { status: 'CREATED', error: null } },
    ]);
    // And the feed shows it, once no older transaction of this database is still running.
    let feed = await service.call('GET', '/v1/events?type=signup.created&limit=500');
    const deadline = Date.now() + 10_000;
    while (feed.body.items.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      feed = await service.call('GET', '/v1/events?type=signup.created&limit=500');
    }
    expect(feed.body.items).toContainEqual(expect.objectContaining({ type: 'signup.created', externalUserId, userId: created.body.userId }));
  });

  it('FAILED -> signup.failed with Capa’s error', async () => {
    const externalUserId = uniqueId('failed');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: 'Provided email is not valid', error: 'BAD_REQUEST' } }] });
    const rejected = await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'blocked@capa.fi' });
    expect(rejected.status).toBe(422);
    expect(await eventsOf(externalUserId)).toEqual([
      { type: 'signup.failed', userId: null, data: { status: 'FAILED', error: { code: 'BAD_REQUEST', message: expect.any(String) } } },
    ]);
  });

  it('transient trouble (PENDING) writes no event; the background completion writes signup.created once', async () => {
    const externalUserId = uniqueId('pending');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }] });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect([201, 202]).toContain(response.status);
    const deadline = Date.now() + 15_000;
    while ((await eventsOf(externalUserId)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const events = await eventsOf(externalUserId);
    expect(events.map((event) => event.type)).toEqual(['signup.created']);
    const { rows } = await service.query("SELECT count(*)::int AS n FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 AND a.outcome = 'transient'", [externalUserId]);
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('NEEDS_ATTENTION -> signup.needs_attention; an operator’s resolve -> signup.created', async () => {
    const externalUserId = uniqueId('attention');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 409, body: { statusCode: 409, message: 'User with this externalUserId already exists', error: 'Conflict' } }] });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect(response.body.status).toBe('NEEDS_ATTENTION');
    const userId = randomUUID();
    const resolved = await service.call('POST', `/admin${usersPath(externalUserId).slice(3)}/resolve`, { userId }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(resolved.status).toBe(200);
    expect(await eventsOf(externalUserId)).toEqual([
      { type: 'signup.needs_attention', userId: null, data: { status: 'NEEDS_ATTENTION', error: { code: 'Conflict', message: expect.any(String) } } },
      { type: 'signup.created', userId, data: { status: 'CREATED', error: null } },
    ]);
    // A second resolve changes nothing and writes nothing.
    await service.call('POST', `/admin${usersPath(externalUserId).slice(3)}/resolve`, { userId }, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(await eventsOf(externalUserId)).toHaveLength(2);
  });
});
