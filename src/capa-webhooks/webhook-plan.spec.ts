import { effectFor, planWebhook } from './webhook-plan';
import { readWebhook } from './capa-webhook';

const delivery = (body: unknown) => readWebhook(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
const kyc = (event: string) => delivery({ type: 'KYC', event, externalUserId: 'user-1' });
const transaction = delivery({ type: 'TRANSACTION', event: 'COMPLETED_ON_RAMP', externalUserId: 'user-1', transactionId: 't-1' });

describe('planWebhook', () => {
  it.each([
    ['KYC, no signup', kyc('VERIFIED_USER'), { key: 'none' } as const, { outcome: 'unmatched', inboxKycStatus: null, newKycStatus: null, events: [] }],
    [
      'KYC changing the status: update and kyc.status_changed',
      kyc('VERIFIED_USER'),
      { key: 'fresh', kycStatus: 'IN_PROGRESS' } as const,
      {
        outcome: 'applied',
        inboxKycStatus: 'VERIFIED',
        newKycStatus: 'VERIFIED',
        events: [{ type: 'kyc.status_changed', data: { status: 'VERIFIED', previousStatus: 'IN_PROGRESS', capaEvent: 'VERIFIED_USER' } }],
      },
    ],
    [
      'KYC repeating the status (not a duplicate): updated, no event',
      kyc('REJECTED_KYC'),
      { key: 'fresh', kycStatus: 'REJECTED' } as const,
      { outcome: 'applied', inboxKycStatus: 'REJECTED', newKycStatus: 'REJECTED', events: [] },
    ],
    [
      'KYC duplicate: nothing changes, the inbox keeps the current status',
      kyc('VERIFIED_USER'),
      { key: 'duplicate', kycStatus: 'IN_PROGRESS' } as const,
      { outcome: 'duplicate', inboxKycStatus: 'IN_PROGRESS', newKycStatus: null, events: [] },
    ],
    [
      'late CREATED_KYC after VERIFIED: ignored',
      kyc('CREATED_KYC'),
      { key: 'fresh', kycStatus: 'VERIFIED' } as const,
      { outcome: 'ignored', inboxKycStatus: 'VERIFIED', newKycStatus: null, events: [] },
    ],
    [
      'unknown KYC event: unmatched',
      kyc('SOMETHING_NEW'),
      { key: 'fresh', kycStatus: 'NOT_STARTED' } as const,
      { outcome: 'unmatched', inboxKycStatus: 'NOT_STARTED', newKycStatus: null, events: [] },
    ],
    [
      'TRANSACTION: forwarded with the payload (data absent)',
      transaction,
      { key: 'fresh', kycStatus: 'NOT_STARTED' } as const,
      { outcome: 'applied', inboxKycStatus: null, newKycStatus: null, events: [{ type: 'capa.transaction' }] },
    ],
    [
      'TRANSACTION duplicate: not forwarded',
      transaction,
      { key: 'duplicate', kycStatus: 'VERIFIED' } as const,
      { outcome: 'duplicate', inboxKycStatus: null, newKycStatus: null, events: [] },
    ],
    ['unreadable body', delivery('not json'), { key: 'none' } as const, { outcome: 'unreadable', inboxKycStatus: null, newKycStatus: null, events: [] }],
    [
      'unknown type for a known user',
      delivery({ type: 'KYB', event: 'X', externalUserId: 'user-1' }),
      { key: 'fresh', kycStatus: 'VERIFIED' } as const,
      { outcome: 'unmatched', inboxKycStatus: null, newKycStatus: null, events: [] },
    ],
  ])('%s', (_name, received, found, expected) => {
    expect(effectFor(planWebhook(received), found)).toEqual(expected);
  });

  it('has an entry for every status the database can find, fresh and duplicate', () => {
    const plan = planWebhook(kyc('VERIFIED_USER'));
    for (const key of ['fresh', 'duplicate'] as const) {
      expect(Object.keys(plan[key]).sort()).toEqual(['IN_PROGRESS', 'NOT_STARTED', 'REJECTED', 'REVIEW_NEEDED', 'VERIFIED']);
    }
  });
});
