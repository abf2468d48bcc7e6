import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignupsService } from '../src/signups/signups.service';
import { EventReceiver, eventually, newWebhookSecret } from './support/event-receiver';
import { ndjson, upload, waitForImport } from './support/imports';
import { OidcTestProvider } from './support/oidc-provider';
import { ADMIN_TOKEN, TestApp, TestResponse, request, startReplica, startTestApp, uniqueId, usersPath } from './support/test-app';
import { WEBHOOK_ENV, deliver } from './support/webhooks';

const AUDIENCE = 'capa-onboarding-admin';
const CLIENT_ID = 'erasure-page';

/**
 * Personal data erasure (GDPR art. 17, DESIGN.md): two doors, one effect. A user with traces everywhere (a rejected
 * payload, a corrected one, a conflicting one, an import, Capa's webhooks, events and failed pushes) is erased, and then
 * no text or JSON column of any table holds any identifier or alias ever submitted under that id, in any letter case;
 * idempotency, the link to Capa, the audit, the timeline and every replica's cache behave as the contract says.
 */
describe('personal data erasure', () => {
  const idp = new OidcTestProvider({ clientId: CLIENT_ID });
  const receiver = new EventReceiver(newWebhookSecret());
  let service: TestApp;
  let replica: NestFastifyApplication;
  let replicaUrl: string;

  beforeAll(async () => {
    const issuer = await idp.start();
    const endpoint = await receiver.start();
    receiver.failing = true;
    service = await startTestApp({
      env: {
        ...WEBHOOK_ENV,
        ADMIN_OIDC_ISSUER: issuer,
        ADMIN_OIDC_CLIENT_ID: CLIENT_ID,
        ADMIN_PUBLIC_URL: 'http://127.0.0.1:1',
        ADMIN_OIDC_AUDIENCE: AUDIENCE,
        EVENT_WEBHOOK_URLS: endpoint,
        EVENT_WEBHOOK_SECRET: receiver.secret,
        EVENT_WEBHOOK_ALLOW_HTTP: 'true',
        EVENT_RETRY_BASE_MS: '50',
        EVENT_RETRY_MAX_MS: '200',
      },
    });
    replica = await startReplica(service, { ...WEBHOOK_ENV });
    await replica.listen(0, '127.0.0.1');
    replicaUrl = (await replica.getUrl()).replace('[::1]', '127.0.0.1');
  }, 60_000);
  afterAll(async () => {
    await replica?.close();
    await service?.close();
    await receiver.stop();
    await idp.stop();
  });

  const operator = () => idp.mint({ sub: 'erasure-operator', aud: AUDIENCE, roles: ['onboarding:operator'], name: 'Erin Operator' });
  const viewer = () => idp.mint({ sub: 'erasure-viewer', aud: AUDIENCE, roles: ['onboarding:viewer'] });
  const admin = (method: string, path: string, token = ADMIN_TOKEN, body?: unknown): Promise<TestResponse> =>
    service.call(method, path, body, { authorization: `Bearer ${token}` });
  const erasePath = (externalUserId: string) => `${usersPath(externalUserId)}/erase`;
  const adminErasePath = (externalUserId: string) => `/admin${erasePath(externalUserId).slice('/v1'.length)}`;

  /** Every (table, column) of the database whose text, JSON or text-array value holds `needle` in any letter case. */
  async function tracesOf(needle: string): Promise<string[]> {
    const { rows: columns } = await service.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
       WHERE c.table_schema = 'public'
         AND (c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb') OR c.udt_name IN ('_text', '_varchar', '_json', '_jsonb'))`,
    );
    expect(columns.length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const { table_name: table, column_name: column } of columns) {
      const { rows } = await service.query(`SELECT 1 FROM "${table}" WHERE strpos(lower("${column}"::text), lower($1)) > 0 LIMIT 1`, [needle]);
      if (rows.length > 0) found.push(`${table}.${column}`);
    }
    return found;
  }

  async function tracesOfAll(values: string[]): Promise<Record<string, string[]>> {
    const traces: Record<string, string[]> = {};
    for (const value of values) {
      const found = await tracesOf(value);
      if (found.length > 0) traces[value] = found;
    }
    return traces;
  }

  async function userErasedEvents(externalUserId: string): Promise<any[]> {
    const feed = await service.call('GET', '/v1/events?type=user.erased&limit=100');
    expect(feed.status).toBe(200);
    return feed.body.items.filter((event: { externalUserId: string }) => event.externalUserId === externalUserId);
  }

  describe('a user with traces everywhere, erased through the v1 door', () => {
    const externalUserId = uniqueId('erase-api');
    // Submitted under this id over time: rejected by Capa, then corrected (created), then a conflict, then in an import.
    const rejected = { identifier: 'Rejected.Person@Example.com', alias: 'Rejected Alias Quinn' };
    const created = { identifier: 'erin.example@mail.example', alias: 'Erin Quentin Example' };
    const conflicting = { identifier: 'conflict.person@example.net', alias: 'Conflicting Alias Pat' };
    const imported = { identifier: 'imported.person@example.org', alias: 'Imported Alias Sam' };
    const submitted = [rejected, created, conflicting, imported].flatMap((payload) => [payload.identifier, payload.alias]);
    const body = (payload: { identifier: string; alias: string }) => ({ externalUserId, method: 'EMAIL', userType: 'INDIVIDUAL', ...payload });
    let userId: string;
    let erased: TestResponse;

    beforeAll(async () => {
      // Capa rejects the first payload with a message quoting it: the signup, its attempt and signup.failed keep that text.
      service.simulator.setFaults({
        script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: `Provided email "${rejected.identifier}" is not valid`, error: 'BAD_REQUEST' } }],
      });
      expect((await service.call('POST', '/v1/users', body(rejected))).status).toBe(422);
      const first = await service.call('POST', '/v1/users', body(created));
      expect(first.status).toBe(201);
      userId = first.body.userId;
      expect((await service.call('POST', '/v1/users', body(conflicting))).status).toBe(409);

      const uploaded = await upload(service.url, ndjson([body(imported), { externalUserId, method: 'EMAIL', identifier: 'not an email' }]));
      expect(uploaded.status).toBe(202);
      const done = await waitForImport(service.url, uploaded.body.id, (view) => view.status === 'COMPLETED');
      expect(done.counts).toMatchObject({ conflicts: 1, invalid: 1 });

      // Capa's webhooks: KYC carries only the id; a TRANSACTION carries names (here the user's alias and e-mail).
      expect((await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId })).body.outcome).toBe('applied');
      const transaction = { type: 'TRANSACTION', event: 'CREATED_ON_RAMP', externalUserId, transactionId: 't-1', senderName: created.alias.toUpperCase(), senderEmail: created.identifier };
      expect((await deliver(service, transaction)).body.outcome).toBe('applied');

      // Every event is pushed to an endpoint that fails: delivery attempts are stored.
      expect(await eventually(async () => (await service.query(`SELECT 1 FROM event_delivery_attempts WHERE external_user_id = $1`, [externalUserId])).rows.length > 0)).toBe(true);
      // What this service's writers never store today but an endpoint's or a run's answer could hold (the erasure covers them):
      await service.query(`UPDATE event_delivery_attempts SET error = $2 WHERE external_user_id = $1`, [externalUserId, `HTTP 422: rejected "${created.alias}"`]);
      await service.query(`UPDATE event_deliveries SET last_error = $2 WHERE external_user_id = $1`, [externalUserId, `HTTP 422: unknown ${created.identifier}`]);
      await service.query(`UPDATE import_row_errors SET details = $2::jsonb WHERE external_user_id = $1 AND code = 'VALIDATION_FAILED'`, [
        externalUserId,
        JSON.stringify([{ field: 'identifier', message: `"${imported.identifier.toUpperCase()}" is not an e-mail address` }]),
      ]);
      await service.query(`UPDATE capa_reconcile_state SET last_error = $1`, [`detail call failed: ${created.identifier}`]);

      // Before: the values are stored, admin search finds the identifier, both replicas cache the mapping.
      expect(await tracesOf(created.identifier)).toEqual(expect.arrayContaining(['signups.identifier', 'capa_webhook_inbox.body', 'outbox_events.data']));
      expect(await tracesOf(rejected.identifier)).toEqual(expect.arrayContaining(['capa_attempts.error_message', 'outbox_events.data']));
      expect((await admin('GET', `/admin/users?search=${encodeURIComponent(created.identifier)}`)).body.items).toHaveLength(1);
      expect((await service.call('GET', usersPath(externalUserId))).body.identifier).toBe(created.identifier);
      expect((await request(replicaUrl, 'GET', usersPath(externalUserId))).body.identifier).toBe(created.identifier);
      expect((await request(replicaUrl, 'GET', usersPath(externalUserId))).body.erasedAt).toBeNull();

      erased = await service.call('POST', erasePath(externalUserId));
    }, 90_000);

    it('answers 200 with the erased mapping: identifier and alias null, the link to Capa and the rest kept', () => {
      expect(erased.status).toBe(200);
      expect(erased.body).toMatchObject({
        externalUserId,
        userId,
        status: 'CREATED',
        method: 'EMAIL',
        identifier: null,
        userType: 'INDIVIDUAL',
        alias: null,
        kyc: { status: 'IN_PROGRESS', kind: 'KYC' },
        erasedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    });

    it('leaves no identifier or alias ever submitted under the id in any text or JSON column of any table', async () => {
      expect(await tracesOfAll(submitted)).toEqual({});
      // Nothing else was lost: the attempts' metadata, the inbox entries and events are still there.
      const { rows } = await service.query(`SELECT count(*)::int AS n FROM capa_attempts a JOIN signups s ON s.id = a.signup_id WHERE s.external_user_id = $1 AND a.error_code = 'BAD_REQUEST'`, [externalUserId]);
      expect(rows[0].n).toBe(1);
      const inbox = await service.query(`SELECT body FROM capa_webhook_inbox WHERE external_user_id = $1 AND type = 'TRANSACTION'`, [externalUserId]);
      expect(JSON.parse(inbox.rows[0].body)).toMatchObject({ externalUserId, transactionId: 't-1', senderName: '[erased]', senderEmail: '[erased]' });
    });

    it('serves the erased mapping at once from the replica that erased it and from the other one', async () => {
      expect((await service.call('GET', usersPath(externalUserId))).body).toEqual(erased.body);
      expect(await eventually(async () => (await request(replicaUrl, 'GET', usersPath(externalUserId))).body.erasedAt === erased.body.erasedAt, 1000, 10)).toBe(true);
      expect((await request(replicaUrl, 'GET', usersPath(externalUserId))).body).toEqual(erased.body);
    });

    it('keeps idempotency: the original payload replays 200 with the same userId (memory and database alike), another payload is 409', async () => {
      const cache = service.app.get(SignupsService).cache;
      cache.forgetAll();
      const hitsBefore = cache.counts.hits;
      for (let round = 0; round < 2; round++) {
        const replay = await service.call('POST', '/v1/users', body(created));
        expect([replay.status, replay.headers.get('idempotent-replayed'), replay.body.userId, replay.body.identifier]).toEqual([200, 'true', userId, null]);
      }
      // The first replay read the database, the second was answered from memory.
      expect(cache.counts.hits - hitsBefore).toBe(1);
      const onReplica = await request(replicaUrl, 'POST', '/v1/users', body({ ...created, identifier: created.identifier.replace('mail.example', 'MAIL.EXAMPLE') }));
      expect([onReplica.status, onReplica.body.userId]).toEqual([200, userId]);
      for (const other of [conflicting, { ...created, alias: 'Someone Else' }]) {
        const refused = await service.call('POST', '/v1/users', body(other));
        expect([refused.status, refused.body.code]).toEqual([409, 'EXTERNAL_USER_ID_CONFLICT']);
      }
      // Nothing was stored again.
      expect(await tracesOfAll([created.identifier, created.alias])).toEqual({});
      const reimport = await upload(service.url, ndjson([body(created)]));
      const settled = await waitForImport(service.url, reimport.body.id, (view) => view.status === 'COMPLETED');
      expect(settled.counts).toMatchObject({ alreadyRegistered: 1, conflicts: 0 });
    });

    it('emits one user.erased event; erasing again answers the same mapping and emits nothing', async () => {
      expect(await userErasedEvents(externalUserId)).toEqual([
        expect.objectContaining({ type: 'user.erased', externalUserId, userId, data: { erasedAt: erased.body.erasedAt } }),
      ]);
      const again = await service.call('POST', erasePath(externalUserId), {});
      expect([again.status, again.body]).toEqual([200, erased.body]);
      const throughAdmin = await admin('POST', adminErasePath(externalUserId));
      expect([throughAdmin.status, throughAdmin.body.erasedAt]).toEqual([200, erased.body.erasedAt]);
      expect(await userErasedEvents(externalUserId)).toHaveLength(1);
    });

    it('shows one erasure item on the timeline, and no identifier or alias anywhere in it; admin search finds nothing', async () => {
      const timeline = await admin('GET', `/admin/users/${encodeURIComponent(externalUserId)}/timeline?limit=100`);
      expect(timeline.status).toBe(200);
      const erasures = timeline.body.items.filter((item: { kind: string }) => item.kind === 'erasure');
      expect(erasures).toEqual([{ at: erased.body.erasedAt, kind: 'erasure', summary: 'Personal data erased (identifier and alias)', details: { erasedAt: erased.body.erasedAt } }]);
      const text = JSON.stringify(timeline.body).toLowerCase();
      for (const value of submitted) expect(text).not.toContain(value.toLowerCase());
      expect((await admin('GET', `/admin/users?search=${encodeURIComponent(created.identifier)}`)).body.items).toEqual([]);
      const detail = await admin('GET', `/admin/users/${encodeURIComponent(externalUserId)}`);
      expect(detail.body).toMatchObject({ identifier: null, alias: null, erasedAt: erased.body.erasedAt });
    });
  });

  describe('the admin door', () => {
    it('erases for an operator, audited as user.erase with the operator; a viewer gets 403, audited as denied', async () => {
      const externalUserId = uniqueId('erase-admin');
      const identifier = '+14155550123';
      const alias = 'Phoebe Phone-Only';
      const created = await service.call('POST', '/v1/users', { externalUserId, method: 'PHONE_NUMBER', identifier, alias });
      expect(created.status).toBe(201);
      expect((await admin('GET', `/admin/users?search=${encodeURIComponent(identifier)}`)).body.items).toHaveLength(1);

      const refused = await admin('POST', adminErasePath(externalUserId), await viewer());
      expect([refused.status, refused.body.code]).toEqual([403, 'FORBIDDEN']);
      expect((await service.call('GET', usersPath(externalUserId))).body.identifier).toBe(identifier);

      const erased = await admin('POST', adminErasePath(externalUserId), await operator());
      expect(erased.status).toBe(200);
      expect(erased.body).toMatchObject({ externalUserId, userId: created.body.userId, identifier: null, alias: null, erasedAt: expect.any(String) });
      expect(await tracesOfAll([identifier, identifier.slice(1), alias])).toEqual({});
      expect((await admin('GET', `/admin/users?search=${encodeURIComponent(identifier)}`)).body.items).toEqual([]);

      const audit = await admin('GET', `/admin/audit?action=user.erase&target=${encodeURIComponent(`user:${externalUserId}`)}`);
      expect(audit.body.items.map((item: any) => [item.actor.sub, item.outcome])).toEqual([
        ['erasure-operator', 'succeeded'],
        ['erasure-viewer', 'denied'],
      ]);
      expect(JSON.stringify(audit.body)).not.toContain(identifier);
      const replay = await service.call('POST', '/v1/users', { externalUserId, method: 'PHONE_NUMBER', identifier, alias });
      expect([replay.status, replay.body.userId]).toEqual([200, created.body.userId]);
      expect(await userErasedEvents(externalUserId)).toHaveLength(1);
    });
  });

  describe('refusals and other states', () => {
    it('answers 404 for an unknown id and 400 for a body other than {}, changing nothing', async () => {
      const unknown = await service.call('POST', erasePath(uniqueId('nobody')));
      expect(unknown.body).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: expect.any(String) });
      const externalUserId = uniqueId('erase-body');
      expect((await service.call('POST', '/v1/users', { externalUserId, method: 'EMAIL', identifier: 'body.check@example.com' })).status).toBe(201);
      for (const bad of [{ reason: 'gdpr' }, [], 'null']) {
        const refused = await service.call('POST', erasePath(externalUserId), bad);
        expect([refused.status, refused.body.code]).toEqual([400, 'VALIDATION_FAILED']);
      }
      expect((await admin('POST', adminErasePath(externalUserId), ADMIN_TOKEN, { reason: 'x' })).status).toBe(400);
      expect((await service.call('GET', usersPath(externalUserId))).body).toMatchObject({ identifier: 'body.check@example.com', erasedAt: null });
    });

    it('refuses a PENDING signup with 409 SIGNUP_PENDING and Retry-After, and changes nothing', async () => {
      const externalUserId = uniqueId('erase-pending');
      await service.query(
        `INSERT INTO signups (external_user_id, status, method, identifier, alias, fingerprint, next_attempt_at)
         VALUES ($1, 'PENDING', 'EMAIL', 'pending.person@example.com', 'Pending Alias', 'seeded', now() + interval '1 hour')`,
        [externalUserId],
      );
      const before = (await service.query(`SELECT * FROM signups WHERE external_user_id = $1`, [externalUserId])).rows[0];
      const refused = await service.call('POST', erasePath(externalUserId));
      expect([refused.status, refused.body.code]).toEqual([409, 'SIGNUP_PENDING']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const after = (await service.query(`SELECT * FROM signups WHERE external_user_id = $1`, [externalUserId])).rows[0];
      expect(after).toEqual(before);
      expect(await userErasedEvents(externalUserId)).toEqual([]);
    });

    it('erases a FAILED signup: its payload still answers 422, an operator cannot re-drive it, a corrected payload is new data', async () => {
      const externalUserId = uniqueId('erase-failed');
      const payload = { externalUserId, method: 'EMAIL', identifier: 'failed.person@example.com', alias: 'Failed Alias' };
      service.simulator.setFaults({ script: [{ kind: 'status', status: 400, body: { statusCode: 400, message: `"${payload.identifier}" is not valid`, error: 'BAD_REQUEST' } }] });
      expect((await service.call('POST', '/v1/users', payload)).status).toBe(422);
      const erased = await service.call('POST', erasePath(externalUserId));
      expect(erased.body).toMatchObject({ status: 'FAILED', identifier: null, alias: null, error: { code: 'BAD_REQUEST', message: '"[erased]" is not valid' } });
      expect(await tracesOfAll([payload.identifier, payload.alias])).toEqual({});
      const replay = await service.call('POST', '/v1/users', payload);
      expect([replay.status, replay.body.code]).toEqual([422, 'CAPA_REJECTED']);
      expect(JSON.stringify(replay.body)).not.toContain(payload.identifier);
      const retried = await admin('POST', `/admin/users/${encodeURIComponent(externalUserId)}/retry`);
      expect([retried.status, retried.body.code]).toEqual([409, 'PAYLOAD_ERASED']);
      const corrected = await service.call('POST', '/v1/users', { ...payload, identifier: 'fixed.person@example.com' });
      expect(corrected.status).toBe(201);
      expect(corrected.body).toMatchObject({ identifier: 'fixed.person@example.com', alias: 'Failed Alias', erasedAt: null });
    });
  });
});
