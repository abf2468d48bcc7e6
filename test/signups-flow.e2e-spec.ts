import { CAPA_KEY, request, useTestApp, uniqueId, usersPath } from './support/test-app';

describe('POST /v1/users: the idempotent create flow', () => {
  const service = useTestApp();

  const emailSignup = (externalUserId: string, identifier = 'money@capa.fi') => ({
    externalUserId,
    method: 'EMAIL',
    identifier,
    userType: 'INDIVIDUAL',
    alias: 'Satoshi Nakamoto',
  });

  it('creates the user at Capa: 201, Location, the mapping with Capa userId, stored durably', async () => {
    const externalUserId = uniqueId();
    const response = await service.call('POST', '/v1/users', emailSignup(externalUserId));
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(usersPath(externalUserId));
    const capaUser = service.simulator.userFor(externalUserId);
    expect(capaUser).toBeDefined();
    expect(response.body).toEqual({
      externalUserId,
      userId: capaUser!.userId,
      status: 'CREATED',
      method: 'EMAIL',
      identifier: 'money@capa.fi',
      userType: 'INDIVIDUAL',
      alias: 'Satoshi Nakamoto',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      kyc: { status: 'NOT_STARTED', kind: 'KYC', updatedAt: null, linkIssuedAt: null },
      erasedAt: null,
    });
    expect(capaUser!.payload).toEqual(emailSignup(externalUserId));

    const read = await service.call('GET', usersPath(externalUserId));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(response.body);

    const { rows } = await service.query('SELECT status, capa_user_id, lease_owner FROM signups WHERE external_user_id = $1', [externalUserId]);
    const attempts = await service.query(
      'SELECT a.outcome, a.http_status, a.actor FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1',
      [externalUserId],
    );
    expect(rows).toEqual([{ status: 'CREATED', capa_user_id: capaUser!.userId, lease_owner: null }]);
    expect(attempts.rows).toEqual([{ outcome: 'created', http_status: 201, actor: 'request' }]);
  });

  it('replays an identical request: 200 + Idempotent-Replayed, same userId, nothing sent to Capa', async () => {
    const externalUserId = uniqueId();
    const first = await service.call('POST', '/v1/users', emailSignup(externalUserId));
    const before = service.simulator.stats().requests;
    const replay = await service.call('POST', '/v1/users', emailSignup(externalUserId));
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(service.simulator.stats().requests).toBe(before);
    // The replay and the read are answered from the JSON text kept with the cached mapping: still typed as JSON.
    const read = await service.call('GET', usersPath(externalUserId));
    for (const answer of [first, replay, read]) expect(answer.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(read.body).toEqual(first.body);
  });

  it('treats an absent method and an explicit NONE as the same payload, and email domains case-insensitively', async () => {
    const bare = uniqueId();
    expect((await service.call('POST', '/v1/users', { externalUserId: bare })).status).toBe(201);
    expect((await service.call('POST', '/v1/users', { externalUserId: bare, method: 'NONE', identifier: null })).status).toBe(200);
    const email = uniqueId();
    expect((await service.call('POST', '/v1/users', emailSignup(email, 'Money@Capa.FI'))).status).toBe(201);
    expect((await service.call('POST', '/v1/users', emailSignup(email, 'Money@capa.fi'))).status).toBe(200);
  });

  it('answers 409 EXTERNAL_USER_ID_CONFLICT for the same id with another payload, and keeps the mapping', async () => {
    const externalUserId = uniqueId();
    const first = await service.call('POST', '/v1/users', emailSignup(externalUserId));
    const before = service.simulator.stats().requests;
    const conflict = await service.call('POST', '/v1/users', emailSignup(externalUserId, 'other@capa.fi'));
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ statusCode: 409, code: 'EXTERNAL_USER_ID_CONFLICT' });
    expect(service.simulator.stats().requests).toBe(before);
    expect((await service.call('GET', usersPath(externalUserId))).body).toEqual(first.body);
  });

  it('a permanent rejection by Capa -> 422 CAPA_REJECTED and FAILED; replayed as 422; a corrected payload is accepted', async () => {
    const externalUserId = uniqueId();
    service.simulator.setFaults({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: 'Provided email is not valid', error: 'BAD_REQUEST' } }] });
    const rejected = await service.call('POST', '/v1/users', emailSignup(externalUserId, 'blocked@capa.fi'));
    expect(rejected.status).toBe(422);
    expect(rejected.body).toMatchObject({ statusCode: 422, code: 'CAPA_REJECTED', message: expect.stringContaining('Provided email is not valid') });
    expect(rejected.body.details[0]).toMatchObject({ capaCode: 'BAD_REQUEST' });

    const stored = await service.call('GET', usersPath(externalUserId));
    expect(stored.body).toMatchObject({ status: 'FAILED', userId: null, error: { code: 'BAD_REQUEST', message: 'Provided email is not valid' } });

    const before = service.simulator.stats().requests;
    expect((await service.call('POST', '/v1/users', emailSignup(externalUserId, 'blocked@capa.fi'))).status).toBe(422);
    expect(service.simulator.stats().requests).toBe(before);

    const corrected = await service.call('POST', '/v1/users', emailSignup(externalUserId, 'fixed@capa.fi'));
    expect(corrected.status).toBe(201);
    expect(corrected.body).toMatchObject({ status: 'CREATED', identifier: 'fixed@capa.fi', userId: service.simulator.userFor(externalUserId)!.userId });
    expect(corrected.body.error).toBeUndefined();
  });

  it('coalesces 50 concurrent identical requests: one Capa call, the same userId for all, exactly one 201', async () => {
    const externalUserId = uniqueId('burst');
    service.simulator.setFaults({ latencyMs: 150 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => service.call('POST', '/v1/users', emailSignup(externalUserId))),
    );
    expect(service.simulator.callsFor(externalUserId)).toBe(1);
    const userId = service.simulator.userFor(externalUserId)!.userId;
    expect(responses.map((response) => response.body.userId)).toEqual(Array(50).fill(userId));
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(49);
  });

  it('50 concurrent requests for different ids each create exactly one user', async () => {
    const ids = Array.from({ length: 50 }, () => uniqueId('many'));
    const responses = await Promise.all(ids.map((externalUserId) => service.call('POST', '/v1/users', { externalUserId })));
    expect(responses.every((response) => response.status === 201)).toBe(true);
    for (const externalUserId of ids) expect(service.simulator.callsFor(externalUserId)).toBe(1);
    expect(new Set(responses.map((response) => response.body.userId)).size).toBe(50);
  });

  it('handles ids with / ? # % + in paths and Location (percent-encoded)', async () => {
    const externalUserId = `a/b?c#d%e+f&g=${uniqueId()}`;
    const created = await service.call('POST', '/v1/users', { externalUserId });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/users/${encodeURIComponent(externalUserId)}`);
    const read = await service.call('GET', created.headers.get('location')!);
    expect(read.status).toBe(200);
    expect(read.body.externalUserId).toBe(externalUserId);
  });

  it('GET of an unknown id -> 404 NOT_FOUND', async () => {
    const response = await service.call('GET', usersPath('nobody-here'));
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });

  it('unknown routes answer the error shape too', async () => {
    const response = await service.call('GET', '/v2/nothing');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: expect.any(String) });
  });

  it('retries transient faults inside the request: 5xx, reset and 429 then success -> 201', async () => {
    const externalUserId = uniqueId();
    service.simulator.setFaults({ script: [{ kind: 'status', status: 500 }, { kind: 'reset' }, { kind: 'status', status: 429, retryAfter: '0' }] });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect(response.status).toBe(201);
    expect(service.simulator.callsFor(externalUserId)).toBe(4);
    expect(service.simulator.stats().usersCreated).toBeGreaterThan(0);
  });

  it('a lost response (Capa created the user, the answer never came) is retried safely: one user, its userId stored', async () => {
    const externalUserId = uniqueId();
    service.simulator.setFaults({ script: [{ kind: 'commit-then-reset' }] });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect(response.status).toBe(201);
    expect(service.simulator.callsFor(externalUserId)).toBe(2);
    expect(response.body.userId).toBe(service.simulator.userFor(externalUserId)!.userId);
  });

  it('Capa says the user exists but gives no userId -> kept as NEEDS_ATTENTION (202), never FAILED', async () => {
    const externalUserId = uniqueId();
    // Capa already has this user (e.g. registered before this service's database was restored).
    const direct = await request(service.simulator.url, 'POST', '/api/partner/v1/user', { externalUserId }, { 'partner-api-key': CAPA_KEY });
    expect(direct.status).toBe(201);
    service.simulator.setFaults({ script: [{ kind: 'status', status: 409, body: { statusCode: 409, message: 'User with this externalUserId already exists', error: 'Conflict' } }] });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'NEEDS_ATTENTION', userId: null, error: { code: 'Conflict' } });
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(202);
    expect(service.simulator.callsFor(externalUserId)).toBe(2);
  });

  it('a total outage past the deadline -> 202 + Retry-After, PENDING, kept for the background worker', async () => {
    const externalUserId = uniqueId();
    service.simulator.setFaults({ random: { status500: 1 } });
    const started = Date.now();
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect(response.status).toBe(202);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(response.body).toMatchObject({ externalUserId, status: 'PENDING', userId: null, error: { code: expect.any(String) } });
    expect(Date.now() - started).toBeLessThan(3000 + 1500);
    const repeat = await service.call('POST', '/v1/users', { externalUserId });
    expect(repeat.status).toBe(202);
    expect(repeat.body).toMatchObject({ status: 'PENDING' });
  });
});
