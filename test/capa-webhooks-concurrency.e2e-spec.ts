import { decideWebhook, readWebhook } from '../src/capa-webhooks/capa-webhook';
import type { KycStatus } from '../src/verification/kyc-status';
import { useTestApp, uniqueId } from './support/test-app';
import { WEBHOOK_ENV, deliver, register } from './support/webhooks';

const kycEvent = (event: string, externalUserId: string) => ({ type: 'KYC', event, externalUserId });

/**
 * Deliveries for one user racing each other. Each delivery is one database call (capa_record_delivery) that locks the
 * user's signup first; whatever order the deliveries win the lock in, the stored result must be what the rules give
 * when they are applied one at a time in that order. The inbox ids and outbox positions are handed out under the lock,
 * so they record the order.
 */
describe('POST /webhooks/capa: deliveries for one user at once', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  /** Replays a user's inbox rows in id order through decideWebhook, as if they had arrived one by one. */
  async function expectSerialHistory(externalUserId: string): Promise<{ finalStatus: KycStatus; applied: number }> {
    const inbox = await service.query(
      `SELECT body, sha256, outcome, kyc_status::text AS "kycStatus" FROM capa_webhook_inbox WHERE external_user_id = $1 ORDER BY id`,
      [externalUserId],
    );
    let status: KycStatus = 'NOT_STARTED';
    let latestKycSha256: string | null = null;
    const expectedEvents: Array<{ previousStatus: string; status: string; capaEvent: string }> = [];
    for (const row of inbox.rows) {
      const delivery = readWebhook(Buffer.from(row.body));
      // The inbox's rule for KYC deliveries: a repeat of the latest KYC body received for the user.
      const decision = decideWebhook(delivery, { kycStatus: status }, latestKycSha256 === delivery.dedupeSha256);
      expect({ outcome: row.outcome, kycStatus: row.kycStatus }).toEqual({ outcome: decision.outcome, kycStatus: decision.kycStatus });
      if (decision.outcome === 'applied' && decision.kycStatus !== null && decision.kycStatus !== status) {
        expectedEvents.push({ previousStatus: status, status: decision.kycStatus, capaEvent: delivery.event as string });
      }
      if (decision.kycStatus !== null) status = decision.kycStatus;
      latestKycSha256 = row.sha256;
    }
    const signup = await service.query(`SELECT kyc_status::text AS status FROM signups WHERE external_user_id = $1`, [externalUserId]);
    expect(signup.rows[0].status).toBe(status);
    const events = await service.query(
      `SELECT data->>'previousStatus' AS "previousStatus", data->>'status' AS status, data->>'capaEvent' AS "capaEvent"
       FROM outbox_events WHERE external_user_id = $1 AND type = 'kyc.status_changed' ORDER BY position`,
      [externalUserId],
    );
    expect(events.rows).toEqual(expectedEvents);
    return { finalStatus: status, applied: inbox.rows.filter((row) => row.outcome === 'applied').length };
  }

  it('VERIFIED_USER racing late CREATED_KYC / REVIEW_NEEDED_KYC: every user ends VERIFIED, one status_changed per change', async () => {
    const ids = Array.from({ length: 30 }, () => uniqueId('race-verified'));
    for (const id of ids) await register(service, id);
    const bodies = ids.flatMap((id) => ['CREATED_KYC', 'VERIFIED_USER', 'REVIEW_NEEDED_KYC'].map((event) => kycEvent(event, id)));
    const responses = await Promise.all(bodies.map((body) => deliver(service, body)));
    expect(responses.map((response) => response.status)).toEqual(bodies.map(() => 200));

    for (const id of ids) {
      const { finalStatus } = await expectSerialHistory(id);
      expect(finalStatus).toBe('VERIFIED');
    }
  });

  it('every KYC event twice, all at once: each body applied at most once in a row, duplicates never applied, outbox events chain', async () => {
    const ids = Array.from({ length: 20 }, () => uniqueId('race-mixed'));
    for (const id of ids) await register(service, id);
    const bodies = ids.flatMap((id) =>
      ['CREATED_KYC', 'REVIEW_NEEDED_KYC', 'REJECTED_KYC', 'VERIFIED_USER'].flatMap((event) => [kycEvent(event, id), kycEvent(event, id)]),
    );
    const responses = await Promise.all(bodies.map((body) => deliver(service, body)));
    expect(responses.map((response) => response.status)).toEqual(bodies.map(() => 200));

    for (const id of ids) {
      const { applied } = await expectSerialHistory(id);
      expect(applied).toBeGreaterThan(0);
    }
    const duplicates = responses.filter((response) => response.body.outcome === 'duplicate').length;
    // Two identical bodies in a row are always a duplicate; at least some pairs arrive back to back.
    expect(duplicates).toBeGreaterThan(0);
  });

  it('TRANSACTION event delivered 10 times at once: forwarded once, nine duplicates', async () => {
    const id = uniqueId('race-tx');
    await register(service, id);
    const payload = { type: 'TRANSACTION', event: 'COMPLETED_ON_RAMP', externalUserId: id, transactionId: `${id}-t` };
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver(service, payload)));
    expect(responses.map((response) => response.body.outcome).sort()).toEqual(['applied', ...Array(9).fill('duplicate')]);
    const forwarded = await service.query(`SELECT data FROM outbox_events WHERE external_user_id = $1 AND type = 'capa.transaction'`, [id]);
    expect(forwarded.rows).toEqual([{ data: payload }]);
  });
});
