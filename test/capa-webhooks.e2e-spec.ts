import { createHash } from 'node:crypto';
import { PinoLogger } from 'nestjs-pino';
import { CapaWebhooksService } from '../src/capa-webhooks/capa-webhooks.service';
import { readWebhook } from '../src/capa-webhooks/capa-webhook';
import { signCapaPayload } from '../src/capa-webhooks/webhook-signature';
import { ADMIN_TOKEN, useTestApp, uniqueId } from './support/test-app';
import { OLD_WEBHOOK_SECRET, WEBHOOK_ENV, WEBHOOK_SECRET, deliver, inboxRows, kycOf, register } from './support/webhooks';

const kycEvent = (event: string, externalUserId: string) => ({ type: 'KYC', event, externalUserId });

describe('POST /webhooks/capa', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  const inboxCount = async () => Number((await service.query('SELECT count(*) FROM capa_webhook_inbox')).rows[0].count);
  /** A counter's value in /metrics (0 when it has no sample yet). */
  const metric = async (sample: string) => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
    return line === undefined ? 0 : Number(line.slice(sample.length + 1));
  };
  const transactionEvents = async (externalUserId: string) =>
    (await service.query(`SELECT data FROM outbox_events WHERE type = 'capa.transaction' AND external_user_id = $1 ORDER BY data ->> 'transactionId'`, [externalUserId])).rows.map(
      (row) => row.data,
    );
  /**
   * Every log line the webhook receiver writes (its own logger) and every request line for /webhooks/capa, while `run`
   * runs. Tests run at LOG_LEVEL=silent, so the request logger is told every level is on and its lines are caught here.
   */
  const linesWrittenDuring = async (run: () => Promise<void>) => {
    const webhooks = service.app.get(CapaWebhooksService);
    const logger = (webhooks as unknown as { logger: Record<string, (...args: unknown[]) => void> }).logger;
    const serviceLines = (['log', 'warn', 'error', 'debug', 'verbose'] as const).map((level) => jest.spyOn(logger, level).mockImplementation(() => undefined));
    const root = PinoLogger.root;
    const enabled = jest.spyOn(root, 'isLevelEnabled').mockReturnValue(true);
    const requestLines = (['info', 'warn', 'error'] as const).map((level) => jest.spyOn(root, level).mockImplementation(() => undefined));
    try {
      await run();
      const webhookRequestLines = requestLines
        .flatMap((spy) => spy.mock.calls)
        .filter(([fields]) => (fields as { req?: { url?: string } } | undefined)?.req?.url === '/webhooks/capa');
      return { service: serviceLines.flatMap((spy) => spy.mock.calls), requests: webhookRequestLines };
    } finally {
      for (const spy of [...serviceLines, enabled, ...requestLines]) spy.mockRestore();
    }
  };

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

    it('counts refused signatures and stored deliveries in /metrics (each by exactly one)', async () => {
      const id = uniqueId('metrics');
      await register(service, id);
      const refusedBefore = await metric('capa_webhook_signature_failures_total');
      const appliedBefore = await metric('capa_webhooks_total{outcome="applied"}');
      await deliver(service, kycEvent('CREATED_KYC', id));
      await deliver(service, kycEvent('VERIFIED_USER', 'nobody'), { signature: null });
      expect(await metric('capa_webhook_signature_failures_total')).toBe(refusedBefore + 1);
      expect(await metric('capa_webhooks_total{outcome="applied"}')).toBe(appliedBefore + 1);
    });

    it('100 unsigned deliveries: all 401, counted 100 more, at most one refusal line and no line per request', async () => {
      const before = await metric('capa_webhook_signature_failures_total');
      const storedBefore = await inboxCount();
      const statuses: number[] = [];
      const lines = await linesWrittenDuring(async () => {
        for (let batch = 0; batch < 5; batch += 1) {
          const responses = await Promise.all(
            Array.from({ length: 20 }, (_, index) =>
              deliver(service, kycEvent('VERIFIED_USER', `flood-${batch}-${index}`), index % 2 === 0 ? { signature: null } : { secret: 'not-a-configured-secret' }),
            ),
          );
          statuses.push(...responses.map((response) => response.status));
        }
      });
      expect(statuses).toEqual(Array(100).fill(401));
      expect(await metric('capa_webhook_signature_failures_total')).toBe(before + 100);
      expect(await inboxCount()).toBe(storedBefore);
      expect(lines.service.length).toBeLessThanOrEqual(1);
      expect(lines.requests).toEqual([]);
    });

    it('a signed delivery still gets its request line', async () => {
      const lines = await linesWrittenDuring(async () => {
        expect((await deliver(service, { type: 'PAYOUT', event: 'DONE', externalUserId: uniqueId('logged') })).status).toBe(200);
      });
      expect(lines.requests).toHaveLength(1);
    });
  });

  describe('body', () => {
    it('answers 413 to a body over 64 KiB before checking anything: no signature work, nothing stored, counted or logged', async () => {
      const id = uniqueId('too-big');
      await register(service, id);
      const before = { stored: await inboxCount(), refused: await metric('capa_webhook_signature_failures_total') };
      const receive = jest.spyOn(service.app.get(CapaWebhooksService), 'receive');
      try {
        const lines = await linesWrittenDuring(async () => {
          // Signed and otherwise valid: only the size can refuse it.
          const big = JSON.stringify({ type: 'TRANSACTION', event: 'X', externalUserId: id, pad: 'x'.repeat(65 * 1024) });
          const response = await deliver(service, big);
          expect(response.status).toBe(413);
          expect(response.body.code).toBe('PAYLOAD_TOO_LARGE');
          expect(await deliver(service, big, { signature: null }).then((unsigned) => unsigned.status)).toBe(413);
        });
        expect(receive).not.toHaveBeenCalled();
        expect(lines).toEqual({ service: [], requests: [] });
      } finally {
        receive.mockRestore();
      }
      expect(await inboxCount()).toBe(before.stored);
      expect(await metric('capa_webhook_signature_failures_total')).toBe(before.refused);
      expect(await transactionEvents(id)).toEqual([]);
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

  describe('re-spaced copies (dedupe keys on the bytes the signature covered)', () => {
    it('a signed TRANSACTION delivery re-sent with other whitespace is a duplicate, forwarded once', async () => {
      const id = uniqueId('respaced');
      await register(service, id);
      const payload = { type: 'TRANSACTION', event: 'COMPLETED_ON_RAMP', externalUserId: id, transactionId: 't-respaced', amount: '10.00' };
      const canonical = JSON.stringify(payload);
      const signature = signCapaPayload(canonical, WEBHOOK_SECRET);

      expect((await deliver(service, canonical)).body.outcome).toBe('applied');
      const respaced = await deliver(service, JSON.stringify(payload, null, 2), { signature });
      expect(respaced.status).toBe(200);
      expect(respaced.body.outcome).toBe('duplicate');
      expect((await deliver(service, JSON.stringify(payload, null, '\t'), { signature })).body.outcome).toBe('duplicate');
      expect(await transactionEvents(id)).toEqual([payload]);
      // The inbox keeps the raw bytes' SHA-256 (what operators search for), not the key.
      const stored = await service.query('SELECT sha256 FROM capa_webhook_inbox WHERE id = $1', [respaced.body.id]);
      expect(stored.rows[0].sha256).toBe(createHash('sha256').update(JSON.stringify(payload, null, 2)).digest('hex'));
    });

    it('two differently spaced copies, neither the canonical text, are one delivery; another transaction is not', async () => {
      const id = uniqueId('respaced-both');
      await register(service, id);
      const payload = { type: 'TRANSACTION', event: 'CREATED_OFF_RAMP', externalUserId: id, transactionId: 't-1' };
      const signature = signCapaPayload(JSON.stringify(payload), WEBHOOK_SECRET);
      expect((await deliver(service, JSON.stringify(payload, null, 2), { signature })).body.outcome).toBe('applied');
      expect((await deliver(service, JSON.stringify(payload, null, 4), { signature })).body.outcome).toBe('duplicate');
      const other = { ...payload, transactionId: 't-2' };
      expect((await deliver(service, JSON.stringify(other, null, 2), { signature: signCapaPayload(JSON.stringify(other), WEBHOOK_SECRET) })).body.outcome).toBe('applied');
      expect(await transactionEvents(id)).toEqual([payload, other]);
    });

    it('a re-spaced copy of the latest KYC event is a duplicate', async () => {
      const id = uniqueId('respaced-kyc');
      await register(service, id);
      const event = kycEvent('CREATED_KYC', id);
      expect((await deliver(service, event)).body.outcome).toBe('applied');
      const signature = signCapaPayload(JSON.stringify(event), WEBHOOK_SECRET);
      expect((await deliver(service, JSON.stringify(event, null, 2), { signature })).body.outcome).toBe('duplicate');
    });
  });

  describe('NUL (U+0000), which PostgreSQL text and jsonb cannot hold', () => {
    const adminInbox = async (externalUserId: string) =>
      (await service.call('GET', `/admin/webhooks?search=${encodeURIComponent(externalUserId)}`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).body;

    it('a signed TRANSACTION delivery with \\u0000 is stored (U+FFFD), 200 applied, forwarded once; its redelivery is a duplicate', async () => {
      const id = uniqueId('nul-escape');
      await register(service, id);
      const payload = { type: 'TRANSACTION', event: 'COMPLETED_ON_RAMP', externalUserId: id, transactionId: 't-nul', memo: 'a\u0000b', 'k\u0000': 1 };
      const raw = JSON.stringify(payload);
      expect(raw).toContain('\\u0000');

      const response = await deliver(service, raw);
      expect(response.status).toBe(200);
      expect(response.body.outcome).toBe('applied');
      expect((await deliver(service, raw)).body.outcome).toBe('duplicate');

      const inbox = await adminInbox(id);
      expect(inbox.items.map((item: { outcome: string }) => item.outcome)).toEqual(['duplicate', 'applied']);
      expect(inbox.items[1]).toMatchObject({ body: raw, sha256: createHash('sha256').update(raw).digest('hex') });
      const forwarded = { type: 'TRANSACTION', event: 'COMPLETED_ON_RAMP', externalUserId: id, transactionId: 't-nul', memo: 'a\uFFFDb', 'k\uFFFD': 1 };
      expect(await transactionEvents(id)).toEqual([forwarded]);
    });

    it('a signed delivery with a raw 0x00 byte is stored as unreadable (not JSON), 200', async () => {
      const id = uniqueId('nul-byte');
      await register(service, id);
      const raw = `{"type":"TRANSACTION","event":"COMPLETED_ON_RAMP","externalUserId":"${id}","memo":"a\u0000b"}`;
      expect(raw).toContain('\u0000');
      const response = await deliver(service, raw);
      expect(response.status).toBe(200);
      expect(response.body.outcome).toBe('unreadable');
      const stored = await service.query('SELECT body, sha256 FROM capa_webhook_inbox WHERE id = $1', [response.body.id]);
      expect(stored.rows[0]).toEqual({ body: raw.replace('\u0000', '\uFFFD'), sha256: createHash('sha256').update(raw).digest('hex') });
      expect(await transactionEvents(id)).toEqual([]);
    });

    it('a signed KYC delivery whose event and externalUserId carry \\u0000 is stored as unmatched, 200', async () => {
      const response = await deliver(service, JSON.stringify({ type: 'KYC', event: 'VERIFIED\u0000', externalUserId: 'x\u0000y' }));
      expect(response.status).toBe(200);
      expect(response.body.outcome).toBe('unmatched');
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
      return webhooks.apply(readWebhook(Buffer.from(JSON.stringify(body))));
    };

    const eventsOf = async (externalUserId: string) =>
      (await service.query(`SELECT type, user_id AS "userId", data FROM outbox_events WHERE external_user_id = $1 ORDER BY position`, [externalUserId])).rows;

    it('a KYC status change: ids, previous and new status, the Capa event; nothing when the status stays', async () => {
      const id = uniqueId('handoff');
      const { userId } = (await register(service, id)).body;
      const before = (await eventsOf(id)).length;
      const changed = await apply(kycEvent('VERIFIED_USER', id));
      expect(changed).toEqual({ inboxId: expect.any(BigInt), receivedAt: expect.any(Date), outcome: 'applied', reason: null });
      const handedOn = (await eventsOf(id)).slice(before);
      expect(handedOn).toEqual([
        { type: 'kyc.status_changed', userId, data: expect.objectContaining({ previousStatus: 'NOT_STARTED', status: 'VERIFIED', capaEvent: 'VERIFIED_USER' }) },
      ]);
      expect(await apply(kycEvent('VERIFIED_USER', id))).toMatchObject({ outcome: 'duplicate' });
      expect(await apply(kycEvent('CREATED_KYC', id))).toMatchObject({ outcome: 'ignored' });
      expect((await eventsOf(id)).slice(before)).toEqual(handedOn);
    });

    it('a TRANSACTION event: the payload as Capa sent it, with the user’s ids; nothing for a duplicate or an unknown user', async () => {
      const id = uniqueId('handoff-tx');
      const { userId } = (await register(service, id)).body;
      const before = (await eventsOf(id)).length;
      const payload = { type: 'TRANSACTION', event: 'COMPLETED_OFF_RAMP', externalUserId: id, transactionId: 't-9', amount: '12.50' };
      expect(await apply(payload)).toMatchObject({ outcome: 'applied' });
      const handedOn = (await eventsOf(id)).slice(before);
      expect(handedOn).toEqual([{ type: 'capa.transaction', userId, data: payload }]);
      expect(await apply(payload)).toMatchObject({ outcome: 'duplicate' });
      const stranger = uniqueId('stranger');
      expect(await apply({ ...payload, externalUserId: stranger })).toMatchObject({ outcome: 'unmatched' });
      expect((await eventsOf(id)).slice(before)).toEqual(handedOn);
      expect(await eventsOf(stranger)).toEqual([]);
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
