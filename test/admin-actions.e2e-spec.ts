import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, TestResponse, useTestApp, uniqueId, usersPath } from './support/test-app';

describe('admin detail, retry and resolve', () => {
  const service = useTestApp();

  const admin = (method: string, path: string, body?: unknown): Promise<TestResponse> =>
    service.call(method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}` });
  const adminPath = (externalUserId: string, action = '') => `/admin/users/${encodeURIComponent(externalUserId)}${action}`;

  async function failedSignup(externalUserId = uniqueId('failed')): Promise<string> {
    service.simulator.setFaults({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: 'Provided email is not valid', error: 'BAD_REQUEST' } }] });
    const response = await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'money@capa.fi' });
    expect(response.status).toBe(422);
    service.simulator.setFaults({});
    return externalUserId;
  }

  async function needsAttentionSignup(): Promise<string> {
    const externalUserId = uniqueId('attention');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 409, body: { message: 'User already exists' } }] });
    const response = await service.call('POST', '/v1/users', { externalUserId });
    expect(response.status).toBe(202);
    expect(response.body.status).toBe('NEEDS_ATTENTION');
    service.simulator.setFaults({});
    return externalUserId;
  }

  const rowOf = async (externalUserId: string) =>
    (await service.query('SELECT status, capa_user_id, lease_owner, lease_until, error_code FROM signups WHERE external_user_id = $1', [externalUserId])).rows[0];

  describe('GET /admin/users/{externalUserId}', () => {
    it('answers the mapping, its lease and schedule, and the attempts log', async () => {
      const externalUserId = await failedSignup(`ops/a?b#c%d+e-${uniqueId()}`);
      const response = await admin('GET', adminPath(externalUserId));
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        externalUserId,
        userId: null,
        status: 'FAILED',
        method: 'EMAIL',
        identifier: 'money@capa.fi',
        userType: null,
        alias: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        error: { code: 'BAD_REQUEST', message: 'Provided email is not valid' },
        attemptCount: 1,
        leaseOwner: null,
        leaseUntil: null,
        nextAttemptAt: null,
        kyc: { status: 'NOT_STARTED', kind: 'KYC', updatedAt: null, linkIssuedAt: null, history: [] },
        erasedAt: null,
        attempts: [
          {
            at: expect.any(String),
            actor: 'request',
            operation: 'create',
            outcome: 'rejected',
            httpStatus: 400,
            latencyMs: expect.any(Number),
            errorCode: 'BAD_REQUEST',
            errorMessage: 'Provided email is not valid',
          },
        ],
      });
    });

    it('answers 404 NOT_FOUND for an unknown externalUserId', async () => {
      const response = await admin('GET', adminPath('nobody-here'));
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: expect.any(String) });
    });
  });

  describe('POST /admin/users/{externalUserId}/retry', () => {
    it("re-drives a FAILED signup: Capa accepts now -> CREATED with Capa's id, logged as an operator attempt", async () => {
      const externalUserId = await failedSignup();
      const response = await admin('POST', adminPath(externalUserId, '/retry'));
      expect(response.status).toBe(200);
      const capaUser = service.simulator.userFor(externalUserId);
      expect(capaUser).toBeDefined();
      expect(response.body).toMatchObject({ externalUserId, status: 'CREATED', userId: capaUser!.userId });
      expect(response.body.error).toBeUndefined();

      const detail = await admin('GET', adminPath(externalUserId));
      expect(detail.body.attempts.map((attempt: { actor: string; outcome: string }) => [attempt.actor, attempt.outcome])).toEqual([
        ['operator', 'created'],
        ['request', 'rejected'],
      ]);
      expect(detail.body.attemptCount).toBe(2);
      expect(await rowOf(externalUserId)).toMatchObject({ status: 'CREATED', capa_user_id: capaUser!.userId, lease_owner: null });
    });

    it('answers a CREATED signup unchanged without calling Capa', async () => {
      const externalUserId = uniqueId('created');
      const created = await service.call('POST', '/v1/users', { externalUserId });
      const calls = service.simulator.stats().requests;
      const response = await admin('POST', adminPath(externalUserId, '/retry'));
      expect(response.status).toBe(200);
      expect(response.body).toEqual(created.body);
      expect(service.simulator.stats().requests).toBe(calls);
    });

    it('answers 409 LEASE_HELD while another process holds the lease, and does not call Capa', async () => {
      const externalUserId = uniqueId('leased');
      await service.query(
        `INSERT INTO signups (external_user_id, status, method, fingerprint, lease_owner, lease_until, next_attempt_at)
         VALUES ($1, 'PENDING', 'NONE', 'seeded', 'other-replica:1', now() + interval '1 minute', now() + interval '1 minute')`,
        [externalUserId],
      );
      const response = await admin('POST', adminPath(externalUserId, '/retry'));
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ statusCode: 409, code: 'LEASE_HELD', message: expect.stringContaining('other-replica:1') });
      expect(service.simulator.callsFor(externalUserId)).toBe(0);
      expect(await rowOf(externalUserId)).toMatchObject({ status: 'PENDING', lease_owner: 'other-replica:1' });
    });

    it('answers 404 NOT_FOUND for an unknown externalUserId', async () => {
      const response = await admin('POST', adminPath('nobody-here', '/retry'));
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('NOT_FOUND');
    });
  });

  describe('POST /admin/users/{externalUserId}/resolve', () => {
    it('attaches a Capa userId to a NEEDS_ATTENTION signup: CREATED, error and lease cleared, logged', async () => {
      const externalUserId = await needsAttentionSignup();
      const userId = randomUUID();
      const response = await admin('POST', adminPath(externalUserId, '/resolve'), { userId });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ externalUserId, status: 'CREATED', userId });
      expect(response.body.error).toBeUndefined();
      expect(await rowOf(externalUserId)).toEqual({ status: 'CREATED', capa_user_id: userId, lease_owner: null, lease_until: null, error_code: null });

      const detail = await admin('GET', adminPath(externalUserId));
      expect(detail.body.attempts[0]).toEqual({
        at: expect.any(String),
        actor: 'operator',
        operation: 'resolve',
        outcome: 'resolved',
        httpStatus: null,
        latencyMs: 0,
        errorCode: null,
        errorMessage: null,
      });
      const inbound = await service.call('GET', usersPath(externalUserId));
      expect(inbound.body).toMatchObject({ status: 'CREATED', userId });
    });

    it('resolves a FAILED signup too, storing the UUID in lower case', async () => {
      const externalUserId = await failedSignup();
      const userId = randomUUID();
      const response = await admin('POST', adminPath(externalUserId, '/resolve'), { userId: userId.toUpperCase() });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'CREATED', userId });
    });

    it('answers 409 INVALID_STATE for a CREATED or PENDING signup and leaves it alone', async () => {
      const created = uniqueId('created');
      const original = await service.call('POST', '/v1/users', { externalUserId: created });
      const response = await admin('POST', adminPath(created, '/resolve'), { userId: randomUUID() });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ statusCode: 409, code: 'INVALID_STATE', message: expect.stringContaining('CREATED') });
      expect((await rowOf(created)).capa_user_id).toBe(original.body.userId);

      const pending = uniqueId('pending');
      await service.query(`INSERT INTO signups (external_user_id, status, method, fingerprint) VALUES ($1, 'PENDING', 'NONE', 'seeded')`, [pending]);
      const pendingResponse = await admin('POST', adminPath(pending, '/resolve'), { userId: randomUUID() });
      expect(pendingResponse.status).toBe(409);
      expect(pendingResponse.body.code).toBe('INVALID_STATE');
      expect((await rowOf(pending)).status).toBe('PENDING');
    });

    it('answers 409 USER_ID_ALREADY_ATTACHED when another signup holds that Capa userId', async () => {
      const holder = uniqueId('holder');
      const created = await service.call('POST', '/v1/users', { externalUserId: holder });
      const externalUserId = await needsAttentionSignup();
      const response = await admin('POST', adminPath(externalUserId, '/resolve'), { userId: created.body.userId.toUpperCase() });
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ statusCode: 409, code: 'USER_ID_ALREADY_ATTACHED', message: expect.stringContaining(holder) });
      expect((await rowOf(externalUserId)).status).toBe('NEEDS_ATTENTION');
    });

    it('two concurrent resolves with one Capa userId: exactly one wins, the other gets 409 from the unique index', async () => {
      for (let round = 0; round < 8; round++) {
        const first = await needsAttentionSignup();
        const second = await needsAttentionSignup();
        const userId = randomUUID();
        const answers = await Promise.all([first, second].map((id) => admin('POST', adminPath(id, '/resolve'), { userId })));
        expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
        expect(answers.find((answer) => answer.status === 409)?.body.code).toBe('USER_ID_ALREADY_ATTACHED');
        const { rows } = await service.query(`SELECT count(*)::int AS holders FROM signups WHERE capa_user_id = $1`, [userId]);
        expect(rows[0].holders).toBe(1);
      }
    });

    it.each([
      ['not a UUID', { userId: 'not-a-uuid' }],
      ['a number', { userId: 42 }],
      ['missing userId', {}],
      ['an unknown field', { userId: randomUUID(), status: 'CREATED' }],
    ])('answers 400 VALIDATION_FAILED for %s, and changes nothing', async (_name, body) => {
      const externalUserId = await needsAttentionSignup();
      const response = await admin('POST', adminPath(externalUserId, '/resolve'), body);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', details: expect.any(Array) });
      expect((await rowOf(externalUserId)).status).toBe('NEEDS_ATTENTION');
    });

    it('answers 404 NOT_FOUND for an unknown externalUserId', async () => {
      const response = await admin('POST', adminPath('nobody-here', '/resolve'), { userId: randomUUID() });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('NOT_FOUND');
    });
  });
});
