import { ADMIN_TOKEN, useTestApp, uniqueId } from './support/test-app';
import { WEBHOOK_ENV, deliver, register } from './support/webhooks';

/** KYC changes and Capa's TRANSACTION events reach the outbox in the transaction that records them. */
describe('verification events in the outbox', () => {
  const service = useTestApp({ env: WEBHOOK_ENV });

  const eventsOf = async (externalUserId: string) =>
    (
      await service.query(
        'SELECT type, user_id AS "userId", data FROM outbox_events WHERE external_user_id = $1 AND type NOT LIKE \'signup.%\' ORDER BY writer_xid, position',
        [externalUserId],
      )
    ).rows;

  it('a KYC webhook that changes the status -> kyc.status_changed; a redelivery or a non-change -> nothing', async () => {
    const id = uniqueId('kyc-event');
    const userId = (await register(service, id)).body.userId;
    expect((await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId: id })).body.outcome).toBe('applied');
    expect((await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId: id })).body.outcome).toBe('duplicate');
    expect((await deliver(service, { type: 'KYC', event: 'VERIFIED_USER', externalUserId: id })).body.outcome).toBe('applied');
    // A late CREATED_KYC never overwrites VERIFIED: no change, no event.
    await deliver(service, { type: 'KYC', event: 'CREATED_KYC', externalUserId: id });
    expect(await eventsOf(id)).toEqual([
      { type: 'kyc.status_changed', userId, data: { status: 'IN_PROGRESS', previousStatus: 'NOT_STARTED', capaEvent: 'CREATED_KYC' } },
      { type: 'kyc.status_changed', userId, data: { status: 'VERIFIED', previousStatus: 'IN_PROGRESS', capaEvent: 'VERIFIED_USER' } },
    ]);
  });

  it('a TRANSACTION webhook -> capa.transaction with Capa’s payload as received; an unknown user -> nothing', async () => {
    const id = uniqueId('tx-event');
    const userId = (await register(service, id)).body.userId;
    const payload = { type: 'TRANSACTION', event: 'ON_RAMP_COMPLETED', externalUserId: id, amount: '12.50', nested: { currency: 'USD' } };
    expect((await deliver(service, payload)).body.outcome).toBe('applied');
    expect(await eventsOf(id)).toEqual([{ type: 'capa.transaction', userId, data: payload }]);
    const unknown = uniqueId('tx-unknown');
    expect((await deliver(service, { ...payload, externalUserId: unknown })).body.outcome).toBe('unmatched');
    expect(await eventsOf(unknown)).toEqual([]);
  });

  it('an operator’s KYC refresh that changes the status -> kyc.status_changed without a Capa event', async () => {
    const id = uniqueId('refresh-event');
    const userId = (await register(service, id)).body.userId;
    service.simulator.verification.recordEvent(id, 'REJECTED_KYC');
    const refresh = () => service.call('POST', `/admin/users/${encodeURIComponent(id)}/kyc/refresh`, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect((await refresh()).status).toBe(200);
    expect((await refresh()).status).toBe(200);
    expect(await eventsOf(id)).toEqual([{ type: 'kyc.status_changed', userId, data: { status: 'REJECTED', previousStatus: 'NOT_STARTED', capaEvent: null } }]);
  });
});
