import { ADMIN_TOKEN, INBOUND_TOKEN, TestResponse, useTestApp, uniqueId } from './support/test-app';
import { WEBHOOK_ENV, WEBHOOK_SECRET, deliver, kycOf, register } from './support/webhooks';

const adminPath = (externalUserId: string) => `/admin/users/${encodeURIComponent(externalUserId)}`;

describe('operators: KYC status, history, refresh and the webhook inbox', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });
  const admin = (method: string, path: string): Promise<TestResponse> => service.call(method, path, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });

  beforeAll(() => {
    // The simulator delivers to this app, signed with its secret, Capa's 31-minute schedule compressed to ~2 s.
    service.simulator.configureWebhooks({ url: `${service.url}/webhooks/capa`, secret: WEBHOOK_SECRET, retryScale: 0.002 });
  });

  it('answers 401 to an inbound token on every new admin route', async () => {
    for (const [method, path] of [
      ['POST', '/admin/users/x/kyc/refresh'],
      ['GET', '/admin/webhooks'],
    ]) {
      expect((await service.call(method, path, undefined, { authorization: `Bearer ${INBOUND_TOKEN}` })).status).toBe(401);
    }
  });

  it("the simulator's signed webhooks move the status; the detail shows the KYC history, newest first", async () => {
    const id = uniqueId('history');
    await register(service, id);
    service.simulator.sendKycEvent(id, 'CREATED_KYC');
    await service.simulator.webhooks.settled();
    service.simulator.sendKycEvent(id, 'VERIFIED_USER', 'pretty');
    await service.simulator.webhooks.settled();
    service.simulator.sendKycEvent(id, 'CREATED_KYC');
    await service.simulator.webhooks.settled();

    const detail = await admin('GET', adminPath(id));
    expect(detail.body.kyc).toEqual({
      status: 'VERIFIED',
      kind: 'KYC',
      updatedAt: expect.any(String),
      linkIssuedAt: null,
      history: [
        { event: 'CREATED_KYC', status: 'VERIFIED', receivedAt: expect.any(String), outcome: 'ignored' },
        { event: 'VERIFIED_USER', status: 'VERIFIED', receivedAt: expect.any(String), outcome: 'applied' },
        { event: 'CREATED_KYC', status: 'IN_PROGRESS', receivedAt: expect.any(String), outcome: 'applied' },
      ],
    });
  });

  it("the simulator retries a refused delivery on Capa's schedule, then marks it FAILED", async () => {
    service.simulator.configureWebhooks({ secret: 'a-secret-the-service-does-not-know' });
    try {
      const notification = service.simulator.sendKycEvent(uniqueId('refused'), 'VERIFIED_USER');
      await service.simulator.webhooks.settled(20_000);
      const sent = service.simulator.webhookNotifications().find((item) => item.id === notification.id)!;
      expect(sent.status).toBe('FAILED');
      // The first attempt, then immediately, then after 1, 5, 10 and 15 minutes (scaled).
      expect(sent.attempts.map((attempt) => attempt.httpStatus)).toEqual([401, 401, 401, 401, 401, 401]);
      const gaps = sent.attempts.slice(1).map((attempt, index) => Date.parse(attempt.at) - Date.parse(sent.attempts[index].at));
      expect(gaps[4]).toBeGreaterThan(gaps[2]);
    } finally {
      service.simulator.configureWebhooks({ secret: WEBHOOK_SECRET });
    }
  });

  it('a delivery that fails at first is delivered by a later attempt', async () => {
    const id = uniqueId('late-url');
    await register(service, id);
    service.simulator.configureWebhooks({ url: 'http://127.0.0.1:9/webhooks/capa' });
    const notification = service.simulator.sendKycEvent(id, 'REVIEW_NEEDED_KYC');
    await new Promise((resolve) => setTimeout(resolve, 50));
    service.simulator.configureWebhooks({ url: `${service.url}/webhooks/capa` });
    await service.simulator.webhooks.settled(20_000);
    const sent = service.simulator.webhookNotifications().find((item) => item.id === notification.id)!;
    expect(sent.status).toBe('SENT');
    expect(sent.attempts.length).toBeGreaterThan(1);
    expect((await kycOf(service, id)).status).toBe('REVIEW_NEEDED');
  });

  describe('POST /admin/users/{id}/kyc/refresh', () => {
    it.each<[string, 'INDIVIDUAL' | 'BUSINESS', string, string]>([
      ['KYC verdict VERIFIED', 'INDIVIDUAL', 'VERIFIED_USER', 'VERIFIED'],
      ['KYC verdict REJECTED', 'INDIVIDUAL', 'REJECTED_KYC', 'REJECTED'],
      ['KYB verificationStatus REVIEW_NEEDED', 'BUSINESS', 'REVIEW_NEEDED_KYC', 'REVIEW_NEEDED'],
    ])('%s sets kyc.status from the verdict only', async (_name, userType, event, status) => {
      const id = uniqueId('refresh');
      await register(service, id, userType);
      // Capa's verdict changes without a webhook reaching the service.
      service.simulator.verification.recordEvent(id, event);
      const response = await admin('POST', `${adminPath(id)}/kyc/refresh`);
      expect(response.status).toBe(200);
      expect(response.body.kyc.status).toBe(status);
      const stored = await service.query(
        `SELECT s::text || coalesce((SELECT json_agg(a)::text FROM capa_attempts a WHERE a.signup_id = s.id), '') AS text FROM signups s WHERE external_user_id = $1`,
        [id],
      );
      expect(stored.rows[0].text).toContain(userType === 'BUSINESS' ? 'kyb-details' : 'kyc-details');
      expect(stored.rows[0].text).not.toContain('SIM-PII');
    });

    it('404 for an unknown user, 409 NOT_REGISTERED for one not CREATED', async () => {
      expect((await admin('POST', `${adminPath(uniqueId('none'))}/kyc/refresh`)).status).toBe(404);
      const id = uniqueId('refresh-pending');
      await service.query(`INSERT INTO signups (external_user_id, status, method, fingerprint) VALUES ($1, 'PENDING', 'NONE', 'seeded')`, [id]);
      const response = await admin('POST', `${adminPath(id)}/kyc/refresh`);
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('NOT_REGISTERED');
    });
  });

  describe('GET /admin/users?kycStatus=', () => {
    it('filters by KYC status, alone and with a search; rejects an unknown one', async () => {
      const prefix = uniqueId('kycfilter');
      await register(service, `${prefix}-a`);
      await register(service, `${prefix}-b`);
      await deliver(service, { type: 'KYC', event: 'REJECTED_KYC', externalUserId: `${prefix}-b` });
      const rejected = await admin('GET', `/admin/users?kycStatus=REJECTED&search=${prefix}`);
      expect(rejected.body.items.map((item: { externalUserId: string }) => item.externalUserId)).toEqual([`${prefix}-b`]);
      const notStarted = await admin('GET', `/admin/users?kycStatus=NOT_STARTED&search=${prefix}`);
      expect(notStarted.body.items.map((item: { externalUserId: string }) => item.externalUserId)).toEqual([`${prefix}-a`]);
      expect((await admin('GET', '/admin/users?kycStatus=DONE')).status).toBe(400);
    });
  });

  describe('GET /admin/webhooks and webhooks in /admin/stats', () => {
    it('lists deliveries newest first with their raw body, filtered by outcome and search, keyset-paginated', async () => {
      const id = uniqueId('inbox');
      await register(service, id);
      const bodies = ['CREATED_KYC', 'CREATED_KYC', 'VERIFIED_USER'].map((event) => ({ type: 'KYC', event, externalUserId: id }));
      for (const body of bodies) await deliver(service, body);

      const all = await admin('GET', `/admin/webhooks?search=${encodeURIComponent(id)}&limit=2`);
      expect(all.status).toBe(200);
      expect(all.body.items).toEqual([
        { id: expect.any(String), receivedAt: expect.any(String), outcome: 'applied', type: 'KYC', event: 'VERIFIED_USER', externalUserId: id, sha256: expect.stringMatching(/^[0-9a-f]{64}$/), body: JSON.stringify(bodies[2]), source: 'webhook', notificationId: null, outcomeReason: null },
        expect.objectContaining({ outcome: 'duplicate', event: 'CREATED_KYC' }),
      ]);
      const next = await admin('GET', `/admin/webhooks?search=${encodeURIComponent(id)}&limit=2&cursor=${all.body.nextCursor}`);
      expect(next.body.items).toEqual([expect.objectContaining({ outcome: 'applied', event: 'CREATED_KYC' })]);
      expect(next.body.nextCursor).toBeNull();

      const duplicates = await admin('GET', `/admin/webhooks?outcome=duplicate&search=${encodeURIComponent(id)}`);
      expect(duplicates.body.items).toHaveLength(1);
      const bySha = await admin('GET', `/admin/webhooks?search=${all.body.items[0].sha256}`);
      expect(bySha.body.items.map((item: { id: string }) => item.id)).toEqual([all.body.items[0].id]);
      expect((await admin('GET', '/admin/webhooks?outcome=lost')).status).toBe(400);
      expect((await admin('GET', '/admin/webhooks?cursor=nope')).status).toBe(400);
    });

    it('counts deliveries by outcome and refused signatures', async () => {
      const before = (await admin('GET', '/admin/stats')).body.webhooks;
      await deliver(service, 'not json at all');
      await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: 'x' }, { signature: null });
      const after = (await admin('GET', '/admin/stats')).body.webhooks;
      expect(after).toEqual({
        ...before,
        received: before.received + 1,
        unreadable: before.unreadable + 1,
        rejectedSignatures: before.rejectedSignatures + 1,
      });
      expect(Object.keys(after).sort()).toEqual(['applied', 'duplicate', 'ignored', 'received', 'rejectedSignatures', 'unmatched', 'unreadable']);
    });
  });
});
