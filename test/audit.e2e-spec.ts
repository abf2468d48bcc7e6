import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { ndjson, upload } from './support/imports';
import { ADMIN_TOKEN, TestResponse, useTestApp, uniqueId } from './support/test-app';

const API_KEY_ACTOR = { sub: 'api-key', name: null, email: null, via: 'api-key' };

describe('audit log: every admin write, committed before the answer; append-only', () => {
  const service = useTestApp();
  const admin = (method: string, path: string, body?: unknown): Promise<TestResponse> =>
    service.call(method, path, body, { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': `req-${uniqueId()}` });
  const userPath = (externalUserId: string, action: string) => `/admin/users/${encodeURIComponent(externalUserId)}${action}`;
  const auditOf = async (query: string) => (await admin('GET', `/admin/audit?${query}`)).body;

  async function failedSignup(): Promise<string> {
    const externalUserId = uniqueId('audit/failed');
    service.simulator.setFaults({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: 'Provided email is not valid', error: 'BAD_REQUEST' } }] });
    expect((await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'secret-person@example.com', alias: 'Secret Alias' })).status).toBe(422);
    service.simulator.setFaults({});
    return externalUserId;
  }

  it('records a succeeded retry with the actor, target and request id, before the answer is sent', async () => {
    const externalUserId = await failedSignup();
    const requestId = `req-${uniqueId()}`;
    const response = await service.call('POST', userPath(externalUserId, '/retry'), undefined, { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': requestId });
    expect(response.status).toBe(200);
    // Read at once, through SQL: the row was committed before the answer.
    const { rows } = await service.query('SELECT actor_sub, actor_via, action, target, outcome, request_id, details FROM audit_log WHERE request_id = $1', [requestId]);
    expect(rows).toEqual([{ actor_sub: 'api-key', actor_via: 'api-key', action: 'user.retry', target: `user:${externalUserId}`, outcome: 'succeeded', request_id: requestId, details: {} }]);
    const page = await auditOf(`target=${encodeURIComponent(`user:${externalUserId}`)}`);
    expect(page.items).toEqual([
      { id: expect.any(String), at: expect.any(String), actor: API_KEY_ACTOR, action: 'user.retry', target: `user:${externalUserId}`, outcome: 'succeeded', requestId, details: {} },
    ]);
    // Never the user's identifier or alias.
    expect(JSON.stringify(page)).not.toMatch(/secret-person|Secret Alias/);
  });

  it('records every admin write: resolve, kyc refresh, redeliver, import cancel; a 4xx answer as failed with its status and code', async () => {
    const externalUserId = await failedSignup();
    const userId = randomUUID();
    expect((await admin('POST', userPath(externalUserId, '/resolve'), { userId: userId })).status).toBe(200);
    expect((await admin('POST', userPath(externalUserId, '/resolve'), { userId: randomUUID() })).status).toBe(409);
    expect((await admin('POST', userPath('nobody-here', '/kyc/refresh'))).status).toBe(404);
    // Capa does not know the resolved userId: the refresh is answered 4xx, audited as failed with that answer.
    const refreshed = await admin('POST', userPath(externalUserId, '/kyc/refresh'));
    expect(refreshed.status).toBe(422);
    const eventId = (await service.query<{ id: string }>('SELECT id::text FROM outbox_events ORDER BY occurred_at LIMIT 1')).rows[0].id;
    expect((await admin('POST', `/admin/events/${eventId}/redeliver`)).status).toBe(200);
    expect((await admin('POST', '/admin/events/not-a-uuid/redeliver')).status).toBe(400);
    const imported = await upload(service.url, ndjson([{ externalUserId: uniqueId('audit-import') }]));
    expect(imported.status).toBe(202);
    expect((await admin('POST', `/admin/imports/${imported.body.id}/cancel`)).status).toBe(200);

    const user = (await auditOf(`target=${encodeURIComponent(`user:${externalUserId}`)}`)).items;
    expect(user.map((row: any) => [row.action, row.outcome, row.details])).toEqual([
      ['user.kyc_refresh', 'failed', { statusCode: 422, code: refreshed.body.code }],
      ['user.resolve', 'failed', { userId: expect.any(String), statusCode: 409, code: 'INVALID_STATE' }],
      ['user.resolve', 'succeeded', { userId: userId }],
    ]);
    expect((await auditOf('target=user%3Anobody-here')).items.map((row: any) => [row.action, row.outcome, row.details])).toEqual([
      ['user.kyc_refresh', 'failed', { statusCode: 404, code: 'NOT_FOUND' }],
    ]);
    expect((await auditOf(`target=event%3A${eventId}`)).items.map((row: any) => [row.action, row.outcome])).toEqual([['event.redeliver', 'succeeded']]);
    expect((await auditOf('target=event%3Anot-a-uuid')).items.map((row: any) => [row.outcome, row.details])).toEqual([
      ['failed', { statusCode: 400, code: 'VALIDATION_FAILED' }],
    ]);
    expect((await auditOf(`target=import%3A${imported.body.id}`)).items.map((row: any) => [row.action, row.outcome])).toEqual([['import.cancel', 'succeeded']]);
  });

  it('reads are not audited, and neither are 401s', async () => {
    const before = (await service.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n;
    await admin('GET', '/admin/users');
    await admin('GET', '/admin/audit');
    expect((await service.call('POST', userPath('x', '/retry'), undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await service.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBe(before);
  });

  it('filters by actor, action and target exactly, newest first, and pages with nextCursor', async () => {
    const externalUserId = uniqueId('audit-pages');
    expect((await service.call('POST', '/v1/users', { externalUserId })).status).toBe(201);
    for (let i = 0; i < 12; i += 1) expect((await admin('POST', userPath(externalUserId, '/kyc/refresh'))).status).toBe(200);
    const target = encodeURIComponent(`user:${externalUserId}`);
    const first = await auditOf(`target=${target}&action=user.kyc_refresh&actor=api-key&limit=2`);
    expect(first.items).toHaveLength(2);
    const second = await auditOf(`target=${target}&action=user.kyc_refresh&actor=api-key&limit=2&cursor=${first.nextCursor}`);
    const third = await auditOf(`target=${target}&action=user.kyc_refresh&actor=api-key&limit=8&cursor=${second.nextCursor}`);
    expect(third.nextCursor).toBeNull();
    expect(third.items).toHaveLength(8);
    const ids = [...first.items, ...second.items, ...third.items].map((row: any) => Number(row.id));
    expect(ids).toHaveLength(12);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect((await auditOf(`target=${target}&action=user.retry`)).items).toEqual([]);
    expect((await auditOf(`target=${target}&actor=someone-else`)).items).toEqual([]);
    expect((await auditOf(`target=${target.slice(0, -2)}`)).items).toEqual([]);
    expect((await admin('GET', '/admin/audit?action=user.delete')).status).toBe(400);
    expect((await admin('GET', '/admin/audit?limit=101')).status).toBe(400);
    expect((await admin('GET', '/admin/audit?cursor=bogus')).status).toBe(400);
  });

  it('answers 503 AUDIT_UNAVAILABLE and does nothing when the audit row cannot be written', async () => {
    const externalUserId = await failedSignup();
    const calls = service.simulator.stats().requests;
    await service.query(`CREATE FUNCTION audit_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`);
    await service.query('CREATE TRIGGER audit_refuse_insert BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_insert()');
    try {
      const retried = await admin('POST', userPath(externalUserId, '/retry'));
      expect(retried.status).toBe(503);
      expect(retried.body).toEqual({ statusCode: 503, code: 'AUDIT_UNAVAILABLE', message: expect.any(String) });
      const resolved = await admin('POST', userPath(externalUserId, '/resolve'), { userId: randomUUID() });
      expect(resolved.status).toBe(503);
    } finally {
      await service.query('DROP TRIGGER audit_refuse_insert ON audit_log');
      await service.query('DROP FUNCTION audit_refuse_insert()');
    }
    expect(service.simulator.stats().requests).toBe(calls);
    const row = (await service.query('SELECT status, capa_user_id FROM signups WHERE external_user_id = $1', [externalUserId])).rows[0];
    expect(row).toEqual({ status: 'FAILED', capa_user_id: null });
  });

  it('answers 503 AUDIT_UNAVAILABLE instead of the outcome when the row cannot be committed after the action', async () => {
    const externalUserId = await failedSignup();
    // The rehearsal (a succeeded row) passes; the failed row the refused resolve then owes cannot be written.
    await service.query(`CREATE FUNCTION audit_refuse_failed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.outcome = 'failed' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$`);
    await service.query('CREATE TRIGGER audit_refuse_failed BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_failed()');
    try {
      const resolved = await admin('POST', userPath(externalUserId, '/resolve'), { userId: 'not-a-uuid' });
      expect([resolved.status, resolved.body.code, resolved.headers.get('content-type')]).toEqual([503, 'AUDIT_UNAVAILABLE', 'application/json; charset=utf-8']);
    } finally {
      await service.query('DROP TRIGGER audit_refuse_failed ON audit_log');
      await service.query('DROP FUNCTION audit_refuse_failed()');
    }
    expect((await auditOf(`target=${encodeURIComponent(`user:${externalUserId}`)}`)).items).toEqual([]);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of audit_log even to the superuser owner, replication role included', async () => {
    const externalUserId = await failedSignup();
    await admin('POST', userPath(externalUserId, '/kyc/refresh'));
    const client = new Client({ connectionString: service.databaseUrl, user: 'postgres' });
    await client.connect();
    try {
      expect((await client.query('SELECT rolsuper FROM pg_roles WHERE rolname = current_user')).rows[0].rolsuper).toBe(true);
      for (const statement of ["UPDATE audit_log SET outcome = 'succeeded'", 'DELETE FROM audit_log', 'TRUNCATE audit_log', 'UPDATE audit_log SET details = details WHERE false']) {
        await expect(client.query(statement)).rejects.toThrow(/append-only/);
      }
      await client.query('SET session_replication_role = replica');
      await expect(client.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
    expect((await service.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n).toBeGreaterThan(0);
  });
});
