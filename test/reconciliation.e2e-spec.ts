import { CapaWebhooksService } from '../src/capa-webhooks/capa-webhooks.service';
import { Reconciler, type RunReport } from '../src/reconcile/reconciler';
import { Client } from 'pg';
import { ADMIN_TOKEN, TestApp, TestResponse, startTestApp, useTestApp, uniqueId } from './support/test-app';
import { WEBHOOK_ENV, WEBHOOK_SECRET, deliver, kycOf, register } from './support/webhooks';

/** Where a stopped service would be: nothing listens (the simulator's deliveries fail and end FAILED). */
const UNREACHABLE = 'http://127.0.0.1:9/webhooks/capa';
// Capa's 31-minute schedule compressed to ~60 ms.
const RETRY_SCALE = 0.00005;

function setUp(service: TestApp, reachable: boolean): void {
  service.simulator.configureWebhooks({ url: reachable ? `${service.url}/webhooks/capa` : UNREACHABLE, secret: WEBHOOK_SECRET, retryScale: RETRY_SCALE });
}

async function runOnce(service: TestApp): Promise<RunReport> {
  const report = await service.app.get(Reconciler).runOnce();
  if (report === undefined) throw new Error('another run held the lock');
  return report;
}

const admin = (service: TestApp, path: string): Promise<TestResponse> => service.call('GET', path, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });

async function kycEvents(service: TestApp, externalUserId: string): Promise<Array<{ previousStatus: string; status: string; capaEvent: string | null; source?: string }>> {
  const { rows } = await service.query(`SELECT data FROM outbox_events WHERE external_user_id = $1 AND type = 'kyc.status_changed' ORDER BY position`, [externalUserId]);
  return rows.map((row) => row.data);
}

describe("reconciliation: Capa's FAILED notifications read back after an outage", () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  it('applies every verdict of the outage once, oldest first; retries within the caps; a redelivery is a duplicate that undoes nothing', async () => {
    const [verified, rejected, started] = [uniqueId('verified'), uniqueId('rejected'), uniqueId('started')];
    for (const id of [verified, rejected, started]) await register(service, id);
    // The service is down: every notification of the outage ends FAILED at Capa.
    setUp(service, false);
    for (const [id, event] of [
      [verified, 'CREATED_KYC'],
      [rejected, 'CREATED_KYC'],
      [verified, 'VERIFIED_USER'],
      [started, 'CREATED_KYC'],
      [rejected, 'REJECTED_KYC'],
    ]) {
      service.simulator.sendKycEvent(id, event);
    }
    service.simulator.sendWebhook({ type: 'KYC', event: 'VERIFIED_USER', externalUserId: uniqueId('nobody') });
    await service.simulator.webhooks.settled(20_000);
    expect(service.simulator.webhookNotifications().every((notification) => notification.status === 'FAILED')).toBe(true);

    setUp(service, true);
    const report = await runOnce(service);
    expect(report).toMatchObject({ outcome: 'succeeded', lastError: null, listed: 6, applied: 6, duplicate: 0, retried: 6, retryRefused: 0 });
    expect(await kycOf(service, verified)).toMatchObject({ status: 'VERIFIED' });
    expect(await kycOf(service, rejected)).toMatchObject({ status: 'REJECTED' });
    expect(await kycOf(service, started)).toMatchObject({ status: 'IN_PROGRESS' });
    expect(await kycEvents(service, rejected)).toEqual([
      { previousStatus: 'NOT_STARTED', status: 'IN_PROGRESS', capaEvent: 'CREATED_KYC', source: 'reconciled' },
      { previousStatus: 'IN_PROGRESS', status: 'REJECTED', capaEvent: 'REJECTED_KYC', source: 'reconciled' },
    ]);

    // Capa redelivers each retried notification: stored as duplicate/redelivery, never applied again.
    await service.simulator.webhooks.settled(20_000);
    expect(service.simulator.webhookNotifications().every((notification) => notification.status === 'SENT')).toBe(true);
    const { rows } = await service.query(
      `SELECT source, outcome, outcome_reason AS reason, notification_id AS "notificationId", event FROM capa_webhook_inbox WHERE external_user_id = $1 ORDER BY id`,
      [rejected],
    );
    expect(rows).toEqual([
      { source: 'reconciled', outcome: 'applied', reason: null, notificationId: expect.any(String), event: 'CREATED_KYC' },
      { source: 'reconciled', outcome: 'applied', reason: null, notificationId: expect.any(String), event: 'REJECTED_KYC' },
      expect.objectContaining({ source: 'webhook', outcome: 'duplicate', reason: 'redelivery', notificationId: null }),
      expect.objectContaining({ source: 'webhook', outcome: 'duplicate', reason: 'redelivery', notificationId: null }),
    ]);
    expect(await kycOf(service, rejected)).toMatchObject({ status: 'REJECTED' });
    expect(await kycEvents(service, rejected)).toHaveLength(2);

    // Nothing is FAILED any more: a second run lists nothing and applies nothing.
    expect(await runOnce(service)).toMatchObject({ listed: 0, applied: 0 });
    const totals = await admin(service, '/admin/reconciliation');
    expect(totals.status).toBe(200);
    expect(totals.body).toEqual({
      lastRunAt: expect.any(String),
      lastError: null,
      notifications: { seen: 6, applied: 6, duplicate: 0, retried: 6, retryRefused: 0 },
      polled: 0,
    });
    const reconciled = await admin(service, `/admin/webhooks?source=reconciled&search=${encodeURIComponent(rejected)}`);
    expect(reconciled.body.items.map((item: { source: string; notificationId: string | null }) => [item.source, typeof item.notificationId])).toEqual([
      ['reconciled', 'string'],
      ['reconciled', 'string'],
    ]);
  });

  it('a notification listed again is skipped as a duplicate; one taken in by another replica meanwhile is taken once', async () => {
    const id = uniqueId('twice');
    await register(service, id);
    setUp(service, false);
    const notification = service.simulator.sendKycEvent(id, 'REVIEW_NEEDED_KYC');
    await service.simulator.webhooks.settled(20_000);
    const webhooks = service.app.get(CapaWebhooksService);
    const payload = { type: 'KYC', event: 'REVIEW_NEEDED_KYC', externalUserId: id };
    const results = await Promise.all([webhooks.applyReconciled(notification.id, payload), webhooks.applyReconciled(notification.id, payload)]);
    expect(results.map((result) => result.taken).sort()).toEqual([false, true]);
    const report = await runOnce(service);
    expect(report).toMatchObject({ listed: 1, applied: 0, duplicate: 1 });
    expect(await kycEvents(service, id)).toHaveLength(1);
  });

  it('250 FAILED notifications (three pages) are all applied in one run, though their retries wait for quota', async () => {
    setUp(service, false);
    const id = uniqueId('many');
    await register(service, id);
    // One user's long story: it must apply in Capa's order across pages (the list is newest first).
    const events = Array.from({ length: 250 }, (_, index) => (index === 249 ? 'VERIFIED_USER' : index % 2 === 0 ? 'CREATED_KYC' : 'REVIEW_NEEDED_KYC'));
    for (const event of events) service.simulator.sendKycEvent(id, event);
    await service.simulator.webhooks.settled(30_000);
    const report = await runOnce(service);
    // The earlier test's notification is FAILED again too (its redelivery went nowhere): listed, not taken in twice.
    expect(report).toMatchObject({ outcome: 'succeeded', listed: 251, applied: 250 });
    expect(report.retried).toBeLessThanOrEqual(10);
    expect(await kycOf(service, id)).toMatchObject({ status: 'VERIFIED' });
    const { rows } = await service.query(`SELECT event FROM capa_webhook_inbox WHERE external_user_id = $1 AND source = 'reconciled' ORDER BY id`, [id]);
    expect(rows.map((row) => row.event)).toEqual(events);
  });

  it('two runs at once: one holds the lock, the other does nothing', async () => {
    const reconciler = service.app.get(Reconciler);
    const reports = await Promise.all([reconciler.runOnce(), reconciler.runOnce()]);
    expect(reports.filter((report) => report === undefined)).toHaveLength(1);
  });
});

describe("reconciliation: Capa's caps and failures", () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  it('a notification whose retries keep failing is retried 3 times, never a 4th', async () => {
    const id = uniqueId('stubborn');
    await register(service, id);
    setUp(service, false);
    const notification = service.simulator.sendKycEvent(id, 'VERIFIED_USER');
    await service.simulator.webhooks.settled(20_000);
    // The service applies it but stays unreachable for Capa's redeliveries.
    for (let run = 1; run <= 4; run++) {
      await runOnce(service);
      await service.simulator.webhooks.settled(20_000);
    }
    expect(service.simulator.notifications.retryCalls().filter((call) => call.id === notification.id).map((call) => call.status)).toEqual([201, 201, 201]);
    expect(service.simulator.webhooks.find(notification.id)).toMatchObject({ status: 'FAILED', manualRetryCount: 3 });
    // Each retry's redelivery failed: only the latest announcement is outstanding (it expires within the hour).
    const expected = await service.query('SELECT count(*)::int AS n FROM capa_expected_redeliveries WHERE notification_id = $1', [notification.id]);
    expect(expected.rows[0].n).toBe(1);
    expect(await kycOf(service, id)).toMatchObject({ status: 'VERIFIED' });
    const totals = (await admin(service, '/admin/reconciliation')).body;
    expect(totals.notifications).toMatchObject({ seen: 1, applied: 1, duplicate: 3, retried: 3 });
  });

  it('a 429 is counted as refused (not lastError) and pauses retries; never more than 10 calls a minute', async () => {
    setUp(service, false);
    const ids = [];
    for (let index = 0; index < 12; index++) {
      const id = uniqueId(`capped-${index}`);
      await register(service, id);
      ids.push(service.simulator.sendKycEvent(id, 'CREATED_KYC').id);
    }
    await service.simulator.webhooks.settled(20_000);
    const report = await runOnce(service);
    expect(report).toMatchObject({ outcome: 'succeeded', lastError: null, applied: 12 });
    const calls = service.simulator.notifications.retryCalls();
    const windowStart = Date.now() - 60_000;
    expect(calls.filter((call) => call.at > windowStart).length).toBeLessThanOrEqual(10);
    expect(calls.every((call) => call.status !== 429)).toBe(true);
    // Capa's minute was used up by someone else: the next call is answered 429, counted, and pauses the retries.
    await service.query(`DELETE FROM capa_notification_retry_calls`);
    const refused = await runOnce(service);
    expect(refused).toMatchObject({ lastError: null, retryRefused: 1, retried: 0 });
    expect(await runOnce(service)).toMatchObject({ retryRefused: 0, retried: 0 });
    expect(service.simulator.notifications.retryCalls().filter((call) => call.status === 429)).toHaveLength(1);
  });

  it("a failing list ends the run with lastError; a 404 says the API is absent", async () => {
    service.simulator.setFaults({ script: [{ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 }] });
    const failed = await runOnce(service);
    expect(failed.outcome).toBe('failed');
    expect(failed.lastError).toContain('503');
    expect((await admin(service, '/admin/reconciliation')).body.lastError).toContain('503');
    service.simulator.setFaults({});
    service.simulator.configureWebhooks({ notificationApi: false });
    try {
      const absent = await runOnce(service);
      expect(absent).toMatchObject({ outcome: 'api_absent', lastError: expect.stringContaining('404') });
    } finally {
      service.simulator.configureWebhooks({ notificationApi: true });
    }
  });
});

describe('the KYC poll fallback and refresh never move a status backwards', () => {
  const service = useTestApp({ env: { ...WEBHOOK_ENV, KYC_POLL_AFTER_MS: '1000', KYC_POLL_RPS: '4' } });

  it('a user stuck IN_PROGRESS whose verdict Capa never sent (NOT_SENT) is polled, at the configured rate', async () => {
    setUp(service, true);
    const ids = [uniqueId('stuck-a'), uniqueId('stuck-b'), uniqueId('stuck-c')];
    for (const id of ids) {
      await register(service, id);
      await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId: id });
    }
    // No webhook URL at Capa while the verdicts happen: never delivered.
    service.simulator.configureWebhooks({ url: null });
    service.simulator.sendKycEvent(ids[0], 'VERIFIED_USER');
    service.simulator.sendKycEvent(ids[1], 'REJECTED_KYC');
    expect(service.simulator.webhookNotifications().filter((notification) => notification.status === 'NOT_SENT')).toHaveLength(2);
    await service.query(`UPDATE signups SET kyc_updated_at = now() - interval '1 hour' WHERE external_user_id = ANY($1)`, [ids]);

    const report = await runOnce(service);
    expect(report.polled).toBe(3);
    expect(await kycOf(service, ids[0])).toMatchObject({ status: 'VERIFIED' });
    expect(await kycOf(service, ids[1])).toMatchObject({ status: 'REJECTED' });
    // Capa's verdict for the third is still IN_PROGRESS: nothing changes.
    expect(await kycOf(service, ids[2])).toMatchObject({ status: 'IN_PROGRESS' });
    expect((await kycEvents(service, ids[0])).at(-1)).toEqual({ previousStatus: 'IN_PROGRESS', status: 'VERIFIED', capaEvent: null, source: 'polled' });
    const { rows } = await service.query(`SELECT at FROM capa_attempts WHERE operation IN ('kyc-details', 'kyb-details') ORDER BY at`);
    const gaps = rows.slice(1).map((row, index) => row.at.getTime() - rows[index].at.getTime());
    expect(gaps.every((gap) => gap >= 200)).toBe(true);
    // Polled once per KYC_POLL_AFTER_MS: an immediate second run polls nobody.
    expect((await runOnce(service)).polled).toBe(0);
    expect((await admin(service, '/admin/reconciliation')).body.polled).toBe(3);
  });

  it('POST /admin/users/{id}/kyc/refresh: NOT_STARTED at Capa changes nothing, IN_PROGRESS does not undo VERIFIED', async () => {
    setUp(service, true);
    const started = uniqueId('refresh-started');
    await register(service, started);
    await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId: started });
    const refresh = (id: string) => service.call('POST', `/admin/users/${encodeURIComponent(id)}/kyc/refresh`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    const answer = await refresh(started);
    expect(answer.status).toBe(200);
    expect(answer.body.kyc.status).toBe('IN_PROGRESS');

    const verified = uniqueId('refresh-verified');
    await register(service, verified);
    await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: verified });
    service.simulator.verification.recordEvent(verified, 'CREATED_KYC');
    expect((await refresh(verified)).body.kyc.status).toBe('VERIFIED');
    expect(await kycEvents(service, verified)).toHaveLength(1);
  });
});

describe('reconciliation: SIGTERM during a run', () => {
  it('lets the retry call in flight finish and records its answer, then stops', async () => {
    const service = await startTestApp({ env: { ...WEBHOOK_ENV, CAPA_TIMEOUT_MS: '8000' } });
    const db = new Client({ connectionString: service.databaseUrl });
    await db.connect();
    try {
      setUp(service, false);
      for (const name of ['sigterm-a', 'sigterm-b']) {
        const id = uniqueId(name);
        await register(service, id);
        service.simulator.sendKycEvent(id, 'CREATED_KYC');
      }
      await service.simulator.webhooks.settled(20_000);
      service.simulator.setFaults({ latencyMs: 1500 });
      const run = service.app.get(Reconciler).runOnce();
      // A retry call is in flight once its slot is taken and its answer not yet recorded.
      for (let waited = 0; (await db.query('SELECT 1 FROM capa_notification_retry_calls WHERE outcome IS NULL')).rowCount === 0; waited += 20) {
        if (waited > 20_000) throw new Error('no retry call started');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await service.app.close();
      // Once the app has closed, the call has ended and its answer is recorded.
      expect((await db.query('SELECT outcome FROM capa_notification_retry_calls')).rows).toEqual([{ outcome: 'accepted' }]);
      expect(await run).toMatchObject({ outcome: 'stopped', applied: 2, retried: 1 });
      expect(service.simulator.notifications.retryCalls().map((call) => call.status)).toEqual([201]);
      expect((await db.query('SELECT last_run_at IS NOT NULL AS ran, lease_owner FROM capa_reconcile_state')).rows).toEqual([{ ran: true, lease_owner: null }]);
    } finally {
      await db.end();
      await service.close();
    }
  });
});
