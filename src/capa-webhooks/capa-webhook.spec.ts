import { createHash } from 'node:crypto';
import { decideWebhook, readWebhook } from './capa-webhook';

const kyc = (event: string, externalUserId = 'user-1') => readWebhook(Buffer.from(JSON.stringify({ type: 'KYC', event, externalUserId })));

describe('readWebhook', () => {
  it('reads type, event and externalUserId and hashes the raw bytes', () => {
    const raw = Buffer.from('{"type":"TRANSACTION","event":"CREATED_ON_RAMP","externalUserId":"u","transactionId":"t-1"}');
    expect(readWebhook(raw)).toEqual({
      raw,
      sha256: createHash('sha256').update(raw).digest('hex'),
      dedupeSha256: createHash('sha256').update(raw).digest('hex'),
      readable: true,
      type: 'TRANSACTION',
      event: 'CREATED_ON_RAMP',
      externalUserId: 'u',
      payload: { type: 'TRANSACTION', event: 'CREATED_ON_RAMP', externalUserId: 'u', transactionId: 't-1' },
    });
  });

  it('keys duplicates on the canonical text when that is what the signature covered', () => {
    const raw = Buffer.from('{ "type": "TRANSACTION", "event": "X", "externalUserId": "u" }');
    const canonical = JSON.stringify(JSON.parse(raw.toString()));
    const delivery = readWebhook(raw, canonical);
    expect(delivery.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(delivery.dedupeSha256).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('replaces U+0000 with U+FFFD in every parsed string and key (jsonb and text cannot hold it)', () => {
    const delivery = readWebhook(Buffer.from('{"type":"TRANSACTION","event":"E\\u0000","externalUserId":"u","memo":["a\\u0000b"],"k\\u0000":1}'));
    expect(delivery.event).toBe('E\uFFFD');
    expect(delivery.payload).toEqual({ type: 'TRANSACTION', event: 'E\uFFFD', externalUserId: 'u', memo: ['a\uFFFDb'], 'k\uFFFD': 1 });
  });

  it.each(['not json', '{"type":"KYC",}', '[1,2]', '"text"', '42', 'null', ''])('%p is unreadable', (text) => {
    expect(readWebhook(Buffer.from(text))).toMatchObject({ readable: false, type: null, event: null, externalUserId: null });
  });

  it('keeps non-string fields out', () => {
    expect(readWebhook(Buffer.from('{"type":1,"event":{},"externalUserId":""}'))).toMatchObject({ readable: true, type: null, event: null, externalUserId: null });
  });
});

describe('decideWebhook', () => {
  const known = { kycStatus: 'IN_PROGRESS' as const };
  const transaction = readWebhook(Buffer.from('{"type":"TRANSACTION","event":"SOMETHING_NEW_ON_RAMP","externalUserId":"user-1"}'));

  it.each<[string, ReturnType<typeof readWebhook>, { kycStatus: 'IN_PROGRESS' | 'VERIFIED' } | null, boolean, object]>([
    ['unreadable', readWebhook(Buffer.from('nope')), known, false, { outcome: 'unreadable', kycStatus: null }],
    ['unknown type', readWebhook(Buffer.from('{"type":"PAYOUT","event":"X","externalUserId":"user-1"}')), known, false, { outcome: 'unmatched', kycStatus: null }],
    ['no event', readWebhook(Buffer.from('{"type":"KYC","externalUserId":"user-1"}')), known, false, { outcome: 'unmatched', kycStatus: null }],
    ['unknown user', kyc('VERIFIED_USER'), null, false, { outcome: 'unmatched', kycStatus: null }],
    ['KYC applied', kyc('VERIFIED_USER'), known, false, { outcome: 'applied', kycStatus: 'VERIFIED' }],
    ['KYC duplicate of the latest', kyc('VERIFIED_USER'), known, true, { outcome: 'duplicate', kycStatus: 'IN_PROGRESS' }],
    ['KYC late CREATED after VERIFIED', kyc('CREATED_KYC'), { kycStatus: 'VERIFIED' }, false, { outcome: 'ignored', kycStatus: 'VERIFIED' }],
    ['KYC unknown event', kyc('KYC_EXPIRED'), known, false, { outcome: 'unmatched', kycStatus: 'IN_PROGRESS' }],
    ['TRANSACTION (any event) applied', transaction, known, false, { outcome: 'applied', kycStatus: null }],
    ['TRANSACTION repeated within the hour', transaction, known, true, { outcome: 'duplicate', kycStatus: null }],
    ['TRANSACTION for an unknown user', transaction, null, false, { outcome: 'unmatched', kycStatus: null }],
  ])('%s', (_name, delivery, signup, repeat, decision) => {
    expect(decideWebhook(delivery, signup, repeat)).toEqual(decision);
  });
});
