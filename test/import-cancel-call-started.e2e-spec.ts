import { ImportRepository } from '../src/imports/import.repository';
import { SignupRepository } from '../src/signups/signup.repository';
import { ndjson, upload } from './support/imports';
import { useTestApp } from './support/test-app';

/**
 * "Was this row's call started?" is a fact in the database (signups.call_started_at), committed before the HTTP call,
 * not an inference from the lease or the attempt log: a drive cut off between starting its call and recording the
 * attempt leaves a row that looks never sent by every other sign, and an import cancel must still keep it.
 */
describe('import cancel and the committed call-started fact', () => {
  // No background worker: the test leases and releases rows itself.
  const service = useTestApp({ env: { WORKER_INTERVAL_MS: '600000' } });

  it('keeps a row whose call was started although its lease was released with no attempt recorded; withdraws the others', async () => {
    const tag = `started-${Date.now()}`;
    const answer = await upload(service.url, ndjson([{ externalUserId: `${tag}-0` }, { externalUserId: `${tag}-1` }]));
    expect(answer.status).toBe(202);
    const imports = service.app.get(ImportRepository);
    const signups = service.app.get(SignupRepository);

    const [claimed] = await imports.claimDue('cut-off-drive', 60_000, 1);
    expect(claimed.externalUserId).toBe(`${tag}-0`);
    // Only the lease holder can say it calls; a drive that lost the lease learns it here.
    expect(await signups.markCallStarted(claimed.id, 'someone-else')).toBe(false);
    expect(await signups.markCallStarted(claimed.id, claimed.leaseOwner!)).toBe(true);
    // The drain lets go of the lease before the attempt is recorded (the drive was waiting for a pool connection).
    expect(await signups.releaseLeases([claimed.leaseOwner!], new Date())).toBe(1);

    const cancelled = await service.call('POST', `/v1/imports/${answer.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.counts).toMatchObject({ cancelled: 1, pending: 1 });
    const { rows } = await service.query(`SELECT external_user_id AS id FROM signups WHERE external_user_id LIKE $1`, [`${tag}-%`]);
    expect(rows).toEqual([{ id: `${tag}-0` }]);
  });
});
