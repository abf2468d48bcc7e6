import { createHash } from 'node:crypto';
import { CapaWebhooksService } from '../src/capa-webhooks/capa-webhooks.service';
import { readDelivery } from '../src/capa-webhooks/webhook-delivery';
import { signCapaPayload } from '../src/capa-webhooks/webhook-signature';
import { useTestApp, uniqueId } from './support/test-app';
import { OLD_WEBHOOK_SECRET, WEBHOOK_ENV, WEBHOOK_SECRET, deliver, inboxRows, kycOf, register } from './support/webhooks';

const kycEvent = (event: string, externalUserId: string) => ({ type: 'KYC', event, externalUserId });

describe('POST /webhooks/capa', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  const inboxCount = async () => Number((await service.query('SELECT count(*) FROM capa_webhook_inbox')).rows[0].count);

  describe('signature', () => {
    it('accepts the raw bytes signed, and moves kyc.status', async () => {
      const id = uniqueId('sig-raw');
      await register(service, id);
      const response = await deliver(service, kycEvent('VERIFIED_USER', id));

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ id: expect.any(String), outcome: 'applied' });
      expect(await kycOf(service, id)).toEqual({ status: 'VERIFIED', kind: 'KYC', updatedAt: expect.any(String), linkIssuedAt: null });
      // A CREATED mapping is never answered stale: the replay of the registration shows the new status too.
      const replay = await service.call('POST', '/v1/users', { externalUserId: id });
      expect(replay.status).toBe(200);
      expect(replay.body.kyc.status).toBe('VERIFIED');
    });

    it("accepts a body signed as JSON.stringify(JSON.parse(body)) (Capa's sample), and stores the raw bytes", async () => {
      const id = uniqueId('sig-reserialised');
      await register(service, id);
      const pretty = JSON.stringify(kycEvent('CREATED_KYC', id), null, 2);
      const response = await deliver(service, pretty, { signature: signCapaPayload(JSON.stringify(JSON.parse(pretty)), WEBHOOK_SECRET) });

      expect(response.status).toBe(200);
      const stored = await service.query('SELECT body, sha256 FROM capa_webhook_inbox WHERE id = $1', [response.body.id]);
      expect(stored.rows[0]).toEqual({ body: pretty, sha256: createHash('sha256').update(pretty).digest('hex') });
      expect((await kycOf(service, id)).status).toBe('IN_PROGRESS');
    });

    it('accepts the previous secret during a rotation', async () => {
      const id = uniqueId('sig-rotated');
      await register(service, id);
      expect((await deliver(service, kycEvent('REVIEW_NEEDED_KYC', id), { secret: OLD_WEBHOOK_SECRET })).body.outcome).toBe('applied');
      expect((await kycOf(service, id)).status).toBe('REVIEW_NEEDED');
    });

    it.each<[string, { signature?: string | null; secret?: string }]>([
      ['a wrong secret', { secret: 'not-a-configured-secret' }],
      ['no signature', { signature: null }],
      ['a truncated signature', { signature: signCapaPayload('x', WEBHOOK_SECRET).slice(0, 40) }],
      ['an empty signature', { signature: '' }],
      ['a signature of another body', { signature: signCapaPayload('{"type":"KYC"}', WEBHOOK_SECRET) }],
    ])('answers 401 INVALID_SIGNATURE to %s, stores nothing and changes nothing', async (_name, options) => {
      const id = uniqueId('sig-bad');
      await register(service, id);
      const before = await inboxCount();
      const response = await deliver(service, kycEvent('VERIFIED_USER', id), options);

      expect(response.status).toBe(401);
      expect(response.body).toEqual({ statusCode: 401, code: 'INVALID_SIGNATURE', message: expect.any(String) });
      expect(await inboxCount()).toBe(before);
      expect((await kycOf(service, id)).status).toBe('NOT_STARTED');
    });

    it('answers 401 to a truncated body signed whole', async () => {
      const id = uniqueId('sig-truncated-body');
      await register(service, id);
      const whole = JSON.stringify(kycEvent('VERIFIED_USER', id));
      const response = await deliver(service, whole.slice(0, -5), { signature: signCapaPayload(whole, WEBHOOK_SECRET) });
      expect(response.status).toBe(401);
    });

    it('counts refused signatures and stored deliveries in /metrics', async () => {
      const id = uniqueId('metrics');
      await register(service, id);
      await deliver(service, kycEvent('CREATED_KYC', id));
      await deliver(service, kycEvent('VERIFIED_USER', 'nobody'), { signature: null });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/^capa_webhook_signature_failures_total [1-9]\d*$/m);
      expect(metrics).toMatch(/^capa_webhooks_total\{outcome="applied"\} [1-9]\d*$/m);
    });
  });

  describe('body', () => {
    it('answers 413 to a body over 64 KiB before checking anything, and stores nothing', async () => {
      const before = await inboxCount();
      const big = JSON.stringify({ type: 'TRANSACTION', event: 'X', externalUserId: 'u', pad: 'x'.repeat(65 * 1024) });
      const response = await deliver(service, big);
      expect(response.status).toBe(413);
      expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await inboxCount()).toBe(before);
    });

    it('accepts a signed body up to 64 KiB (over the 16 KiB of other routes)', async () => {
      const id = uniqueId('big');
      await register(service, id);
      const response = await deliver(service, { type: 'TRANSACTION', event: 'CREATED_ON_RAMP', externalUserId: id, pad: 'x'.repeat(40 * 1024) });
      expect(response.status).toBe(200);
      expect(response.body.outcome).toBe('applied');
    });

    it('stores a signed body that is not JSON as unreadable, 200', async () => {
      const response = await deliver(service, '{"type":"KYC","event":"VERIFIED_USER",}');
      expect(response.status).toBe(200);
      expect(response.body.outcome).toBe('unreadable');
      const stored = await service.query('SELECT outcome, type, body FROM capa_webhook_inbox WHERE id = $1', [response.body.id]);
      expect(stored.rows[0]).toEqual({ outcome: 'unreadable', type: null, body: '{"type":"KYC","event":"VERIFIED_USER",}' });
    });

    it('keeps other routes at 16 KiB and parsed JSON', async () => {
      const tooBig = await service.call('POST', '/v1/users', { externalUserId: 'x', alias: 'y'.repeat(17 * 1024) });
      expect(tooBig.status).toBe(413);
      const malformed = await service.call('POST', '/v1/users', '{"externalUserId":');
      expect(malformed.body.code).toBe('MALFORMED_JSON');
    });
  });

  describe('matching', () => {
    it('stores unknown users, unknown types and unknown KYC events as unmatched, 200', async () => {
      const id = uniqueId('match');
      await register(service, id);
      const unknownUser = await deliver(service, kycEvent('VERIFIED_USER', uniqueId('never-registered')));
      const unknownType = await deliver(service, { type: 'PAYOUT', event: 'DONE', externalUserId: id });
      const unknownEvent = await deliver(service, kycEvent('KYC_EXPIRED', id));

      expect([unknownUser, unknownType, unknownEvent].map((response) => [response.status, response.body.outcome])).toEqual([
        [200, 'unmatched'],
        [200, 'unmatched'],
        [200, 'unmatched'],
      ]);
      expect((await kycOf(service, id)).status).toBe('NOT_STARTED');
    });

    it('applies TRANSACTION events of any name for a known user and stores duplicates within the hour as such', async () => {
      const id = uniqueId('tx');
      await register(service, id);
      const event = { type: 'TRANSACTION', event: 'SOMETHING_NEW_OFF_RAMP', externalUserId: id, transactionId: 't-1', amount: '10.00' };
      expect((await deliver(service, event)).body.outcome).toBe('applied');
      expect((await deliver(service, event)).body.outcome).toBe('duplicate');
      expect((await deliver(service, { ...event, transactionId: 't-2' })).body.outcome).toBe('applied');
      // An hour later the same bytes are a new event.
      await service.query(`UPDATE capa_webhook_inbox SET received_at = received_at - interval '61 minutes' WHERE external_user_id = $1`, [id]);
      expect((await deliver(service, event)).body.outcome).toBe('applied');
    });
  });

  describe('KYC status rules', () => {
    it('a redelivery of the latest event is a duplicate, applied once', async () => {
      const id = uniqueId('dup');
      await register(service, id);
      expect((await deliver(service, kycEvent('CREATED_KYC', id))).body.outcome).toBe('applied');
      const updatedAt = (await kycOf(service, id)).updatedAt;
      expect((await deliver(service, kycEvent('CREATED_KYC', id))).body.outcome).toBe('duplicate');
      expect((await kycOf(service, id)).updatedAt).toBe(updatedAt);
      expect(await inboxRows(service, id)).toEqual([
        { outcome: 'applied', event: 'CREATED_KYC', kyc_status: 'IN_PROGRESS' },
        { outcome: 'duplicate', event: 'CREATED_KYC', kyc_status: 'IN_PROGRESS' },
      ]);
    });

    it('a late CREATED_KYC or REVIEW_NEEDED_KYC after VERIFIED is ignored: VERIFIED stays', async () => {
      const id = uniqueId('late');
      await register(service, id);
      await deliver(service, kycEvent('CREATED_KYC', id));
      await deliver(service, kycEvent('VERIFIED_USER', id));
      expect((await deliver(service, kycEvent('CREATED_KYC', id))).body.outcome).toBe('ignored');
      expect((await deliver(service, kycEvent('REVIEW_NEEDED_KYC', id))).body.outcome).toBe('ignored');
      expect((await kycOf(service, id)).status).toBe('VERIFIED');
    });

    it('out of order: VERIFIED before CREATED_KYC ends VERIFIED', async () => {
      const id = uniqueId('order');
      await register(service, id);
      await deliver(service, kycEvent('VERIFIED_USER', id));
      await deliver(service, kycEvent('CREATED_KYC', id));
      expect((await kycOf(service, id)).status).toBe('VERIFIED');
    });

    it('rejected, retried, rejected again: the same bytes twice are applied twice (another event came between)', async () => {
      const id = uniqueId('rejected-twice');
      await register(service, id);
      const outcomes = [];
      for (const event of ['CREATED_KYC', 'REJECTED_KYC', 'REJECTED_KYC', 'CREATED_KYC', 'REJECTED_KYC']) {
        outcomes.push((await deliver(service, kycEvent(event, id))).body.outcome);
      }
      expect(outcomes).toEqual(['applied', 'applied', 'duplicate', 'applied', 'applied']);
      expect((await kycOf(service, id)).status).toBe('REJECTED');
    });

    it('kind is KYB for a BUSINESS user', async () => {
      const id = uniqueId('kyb');
      await register(service, id, 'BUSINESS');
      await deliver(service, kycEvent('VERIFIED_USER', id));
      expect(await kycOf(service, id)).toMatchObject({ status: 'VERIFIED', kind: 'KYB' });
    });
  });

  describe('what a delivery hands on (where the transactional outbox writes its events)', () => {
    const apply = (body: unknown) => {
      const webhooks = service.app.get(CapaWebhooksService);
      return webhooks.apply(readDelivery(Buffer.from(JSON.stringify(body))));
    };

    it('a KYC status change: ids, previous and new status, the Capa event; nothing when the status stays', async () => {
      const id = uniqueId('handoff');
      const { userId } = (await register(service, id)).body;
      const changed = await apply(kycEvent('VERIFIED_USER', id));
      expect(changed).toEqual({
        inboxId: expect.any(BigInt),
        receivedAt: expect.any(Date),
        outcome: 'applied',
        kycChange: { signupId: expect.any(BigInt), externalUserId: id, userId, previousStatus: 'NOT_STARTED', status: 'VERIFIED', capaEvent: 'VERIFIED_USER' },
        transaction: null,
      });
      expect(await apply(kycEvent('VERIFIED_USER', id))).toMatchObject({ outcome: 'duplicate', kycChange: null });
      expect(await apply(kycEvent('CREATED_KYC', id))).toMatchObject({ outcome: 'ignored', kycChange: null });
    });

    it('a TRANSACTION event: the payload as Capa sent it, with the user’s ids; nothing for a duplicate or an unknown user', async () => {
      const id = uniqueId('handoff-tx');
      const { userId } = (await register(service, id)).body;
      const payload = { type: 'TRANSACTION', event: 'COMPLETED_OFF_RAMP', externalUserId: id, transactionId: 't-9', amount: '12.50' };
      expect(await apply(payload)).toMatchObject({ outcome: 'applied', kycChange: null, transaction: { externalUserId: id, userId, payload } });
      expect(await apply(payload)).toMatchObject({ outcome: 'duplicate', transaction: null });
      expect(await apply({ ...payload, externalUserId: uniqueId('stranger') })).toMatchObject({ outcome: 'unmatched', transaction: null });
    });
  });

  describe('concurrency', () => {
    it('200 concurrent distinct deliveries are all stored and applied once', async () => {
      const ids = Array.from({ length: 40 }, () => uniqueId('concurrent'));
      for (const id of ids) await register(service, id);
      // Events that apply in any arrival order (none of them is ever ignored), so every delivery must be applied.
      const bodies = ids.flatMap((id) => [
        kycEvent('REJECTED_KYC', id),
        kycEvent('VERIFIED_USER', id),
        { type: 'TRANSACTION', event: 'CREATED_ON_RAMP', externalUserId: id, transactionId: `${id}-a` },
        { type: 'TRANSACTION', event: 'FIAT_RECEIVED_ON_RAMP', externalUserId: id, transactionId: `${id}-a` },
        { type: 'TRANSACTION', event: 'COMPLETED_ON_RAMP', externalUserId: id, transactionId: `${id}-a` },
      ]);
      expect(bodies).toHaveLength(200);
      const responses = await Promise.all(bodies.map((body) => deliver(service, body)));

      expect(responses.map((response) => response.status)).toEqual(bodies.map(() => 200));
      const stored = await service.query(
        `SELECT outcome, count(*)::int AS count FROM capa_webhook_inbox WHERE external_user_id = ANY($1) GROUP BY outcome ORDER BY outcome`,
        [ids],
      );
      expect(stored.rows).toEqual([{ outcome: 'applied', count: 200 }]);
      // Each user ends in the status of whichever KYC event arrived last, and its history holds both, once each.
      const users = await service.query(
        `SELECT s.kyc_status::text AS status,
                (SELECT count(*)::int FROM capa_webhook_inbox w WHERE w.external_user_id = s.external_user_id AND w.type = 'KYC') AS kyc,
                (SELECT w.kyc_status::text FROM capa_webhook_inbox w WHERE w.external_user_id = s.external_user_id AND w.type = 'KYC' ORDER BY w.id DESC LIMIT 1) AS last
         FROM signups s WHERE external_user_id = ANY($1)`,
        [ids],
      );
      for (const user of users.rows) {
        expect(['VERIFIED', 'REJECTED']).toContain(user.status);
        expect(user.kyc).toBe(2);
        expect(user.last).toBe(user.status);
      }
    });

    it('the same delivery 20 times at once is applied once, the rest duplicates', async () => {
      const id = uniqueId('same');
      await register(service, id);
      const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(service, kycEvent('VERIFIED_USER', id))));
      const outcomes = responses.map((response) => response.body.outcome).sort();
      expect(outcomes).toEqual(['applied', ...Array(19).fill('duplicate')]);
    });
  });
});

describe('POST /webhooks/capa without CAPA_WEBHOOK_SECRETS (not sandbox)', () => {
  const service = useTestApp();

  it('answers 404: webhooks are off', async () => {
    const response = await deliver(service, kycEvent('VERIFIED_USER', 'someone'));
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });
});
