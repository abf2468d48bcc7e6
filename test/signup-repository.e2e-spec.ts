import { PrismaService } from '../src/persistence/prisma.service';
import { SignupRepository } from '../src/signups/signup.repository';
import { toRecord } from '../src/signups/signup-rows';
import { normaliseSignup } from '../src/signups/signup-request';
import type { SignupRecord } from '../src/signups/signup.types';
import { useTestApp } from './support/test-app';

/** findByExternalUserId runs on the adapter's pg pool, not through Prisma: its rows must be exactly Prisma's. */
function withoutObservedAt(row: SignupRecord | null | undefined): SignupRecord | null | undefined {
  if (row === null || row === undefined) return row;
  const { observedAt: _observedAt, ...rest } = row;
  return rest;
}

describe('SignupRepository hot statements (on the adapter pg pool)', () => {
  // No background worker: these tests claim due rows themselves.
  const service = useTestApp({ env: { WORKER_INTERVAL_MS: '600000' } });
  let repository: SignupRepository;
  let prisma: PrismaService;

  beforeAll(() => {
    repository = service.app.get(SignupRepository);
    prisma = service.app.get(PrismaService);
  });

  it('returns the row exactly as Prisma reads it (bigint id, Dates, nulls), for every state a row can be in', async () => {
    const request = normaliseSignup({ externalUserId: 'repo-1', method: 'EMAIL', identifier: 'a@b.co', userType: 'BUSINESS', alias: 'ACME' });
    const inserted = await repository.insertPending(request, { owner: 'test', ms: 60_000 });
    expect(inserted).not.toBeNull();
    const viaPrisma = async () => toRecord((await prisma.signup.findUniqueOrThrow({ where: { externalUserId: 'repo-1' } })) as never);

    const pending = await repository.findByExternalUserId('repo-1');
    expect(withoutObservedAt(pending)).toEqual(await viaPrisma());
    expect(pending?.observedAt).toBeInstanceOf(Date);
    expect(typeof pending?.id).toBe('bigint');
    expect(pending?.leaseUntil).toBeInstanceOf(Date);

    await service.query(
      `UPDATE signups SET status = 'CREATED', capa_user_id = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b', lease_owner = NULL, lease_until = NULL,
              error_code = 'X', error_message = 'y', next_attempt_at = now() WHERE external_user_id = 'repo-1'`,
    );
    const created = await repository.findByExternalUserId('repo-1');
    expect(withoutObservedAt(created)).toEqual(await viaPrisma());
    expect(created).toMatchObject({ status: 'CREATED', leaseOwner: null, leaseUntil: null, nextAttemptAt: expect.any(Date) });
  });

  it('insertPending writes a PENDING row leased on the database clock, once; the same externalUserId again gives null', async () => {
    const request = normaliseSignup({ externalUserId: 'repo-2' });
    // This process's clock two minutes ahead: the lease must still end 60 s after the database's now().
    const row = await repository.insertPending(request, { owner: 'owner-a', ms: 60_000 }, new Date(Date.now() + 120_000));
    expect(row).toMatchObject({ externalUserId: 'repo-2', status: 'PENDING', method: 'NONE', identifier: null, leaseOwner: 'owner-a', attemptCount: 0 });
    // lease_until = the database's now() + 60 s, whatever this process's clock says.
    // (lease_until is stored to the millisecond, now() to the microsecond.)
    expect(Math.abs(row!.leaseUntil!.getTime() - row!.observedAt!.getTime() - 60_000)).toBeLessThanOrEqual(1);
    expect(row?.nextAttemptAt?.getTime()).toBe(row?.leaseUntil?.getTime());
    expect(withoutObservedAt(row)).toEqual(toRecord((await prisma.signup.findUniqueOrThrow({ where: { externalUserId: 'repo-2' } })) as never));
    expect(await repository.insertPending(normaliseSignup({ externalUserId: 'repo-2', alias: 'other' }), { owner: 'owner-b', ms: 60_000 })).toBeNull();
    expect(withoutObservedAt(await repository.findByExternalUserId('repo-2'))).toEqual(withoutObservedAt(row));
  });

  it('a lease is free when the database clock says so, not this process: claimPending and the worker follow lease_until <= now()', async () => {
    const row = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-lease' }), { owner: 'drive-1', ms: 60_000 }))!;
    // This process's clock two minutes ahead would think the lease expired; the database does not.
    const skewed = new Date(Date.now() + 120_000);
    expect(await repository.claimPending(row.id, { owner: 'drive-2', ms: 60_000 }, skewed)).toBeNull();
    expect(await repository.claimDue('worker-x', 60_000, 10, skewed)).toEqual([]);
    await service.query(`UPDATE signups SET lease_until = now() - interval '1 second', next_attempt_at = now() - interval '1 second' WHERE id = $1`, [row.id]);
    const claimed = await repository.claimDue('worker-x', 60_000, 10, new Date(0));
    expect(claimed.map((r) => [r.externalUserId, r.leaseOwner])).toEqual([['repo-lease', `worker-x:${row.id}`]]);
  });

  it('claimDue gives every claimed row a lease owner of its own (one drive per row)', async () => {
    const ids: bigint[] = [];
    for (const n of [1, 2, 3]) ids.push((await repository.insertPending(normaliseSignup({ externalUserId: `repo-due-${n}` }), { owner: 'gone', ms: 0 }))!.id);
    const claimed = await repository.claimDue('pass-7', 60_000, 10, new Date());
    const owners = claimed.filter((r) => ids.includes(r.id)).map((r) => r.leaseOwner);
    expect(owners.sort()).toEqual(ids.map((id) => `pass-7:${id}`).sort());
  });

  it('releaseLeases lets go of the named drives only', async () => {
    const a = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-rel-a' }), { owner: 'host:1:drive-a', ms: 60_000 }))!;
    const b = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-rel-b' }), { owner: 'host:1:drive-b', ms: 60_000 }))!;
    expect(await repository.releaseLeases(['host:1:drive-a'], new Date())).toBe(1);
    expect(await repository.findByExternalUserId('repo-rel-a')).toMatchObject({ id: a.id, leaseOwner: null, leaseUntil: null });
    expect(await repository.findByExternalUserId('repo-rel-b')).toMatchObject({ id: b.id, leaseOwner: 'host:1:drive-b' });
    expect(await repository.releaseLeases([], new Date())).toBe(0);
  });

  it('applyTransition: non-CREATED outcomes only for the drive holding the lease; settled rows stay settled', async () => {
    const now = new Date();
    const a = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-3' }), { owner: 'owner-a', ms: 60_000 }))!;
    expect(await repository.applyTransition(a.id, 'owner-b', { status: 'PENDING', errorCode: 'E', errorMessage: 'm', retryInMs: 30_000 }, 1, now)).toBeNull();
    const pending = await repository.applyTransition(a.id, 'owner-a', { status: 'PENDING', errorCode: 'E', errorMessage: 'm', retryInMs: 30_000 }, 2, now);
    expect(pending).toMatchObject({ status: 'PENDING', errorCode: 'E', leaseOwner: null, leaseUntil: null, attemptCount: 2 });
    expect(Math.abs(pending!.nextAttemptAt!.getTime() - pending!.observedAt!.getTime() - 30_000)).toBeLessThanOrEqual(1);

    const created = await repository.settleCreated(a.id, '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5c', 1, now);
    expect(created).toMatchObject({ kind: 'settled', row: { status: 'CREATED', userId: '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5c', errorCode: null, nextAttemptAt: null, attemptCount: 3 } });
    expect(withoutObservedAt(created.row)).toEqual(toRecord((await prisma.signup.findUniqueOrThrow({ where: { id: a.id } })) as never));
    expect(await repository.applyTransition(a.id, 'owner-a', { status: 'FAILED', errorCode: 'X', errorMessage: 'y' }, 1, now)).toBeNull();

    const b = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-4' }), { owner: 'owner-a', ms: 60_000 }))!;
    expect(await repository.applyTransition(b.id, 'owner-a', { status: 'NEEDS_ATTENTION', errorCode: 'EXISTS', errorMessage: 'no id' }, 1, now)).toMatchObject({
      status: 'NEEDS_ATTENTION',
      errorCode: 'EXISTS',
      nextAttemptAt: null,
      leaseOwner: null,
    });
  });

  it('a userId from Capa always wins: PENDING (any lease), NEEDS_ATTENTION and FAILED rows become CREATED with it', async () => {
    const now = new Date();
    const states: Array<[string, string]> = [
      ['repo-win-pending', `UPDATE signups SET lease_owner = 'another-drive' WHERE external_user_id = $1`],
      ['repo-win-attention', `UPDATE signups SET status = 'NEEDS_ATTENTION', lease_owner = NULL, lease_until = NULL, error_code = 'CONFLICT' WHERE external_user_id = $1`],
      ['repo-win-failed', `UPDATE signups SET status = 'FAILED', lease_owner = NULL, lease_until = NULL, error_code = 'BAD_REQUEST' WHERE external_user_id = $1`],
    ];
    for (const [externalUserId, setUp] of states) {
      const row = (await repository.insertPending(normaliseSignup({ externalUserId }), { owner: 'drive-1', ms: 60_000 }))!;
      await service.query(setUp, [externalUserId]);
      const userId = `00000000-0000-4000-8000-${row.id.toString().padStart(12, '0')}`;
      expect(await repository.settleCreated(row.id, userId, 1, now)).toMatchObject({ kind: 'settled', row: { status: 'CREATED', userId: userId, errorCode: null, leaseOwner: null } });
    }
  });

  it('a CREATED row keeps its first userId; a second one is reported, not written', async () => {
    const row = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-first' }), { owner: 'd', ms: 60_000 }))!;
    await repository.settleCreated(row.id, '11111111-1111-4111-8111-111111111111', 1, new Date());
    const second = await repository.settleCreated(row.id, '22222222-2222-4222-8222-222222222222', 1, new Date());
    expect(second).toMatchObject({ kind: 'already-created', row: { userId: '11111111-1111-4111-8111-111111111111' } });
  });

  it('one Capa userId maps to at most one externalUserId: the unique index refuses a second, the row waits for an operator', async () => {
    const holder = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-holder' }), { owner: 'd1', ms: 60_000 }))!;
    const other = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-other' }), { owner: 'd2', ms: 60_000 }))!;
    const userId = '33333333-3333-4333-8333-333333333333';
    await repository.settleCreated(holder.id, userId, 1, new Date());
    const refused = await repository.settleCreated(other.id, userId, 1, new Date());
    expect(refused).toMatchObject({ kind: 'user-id-taken', row: { status: 'NEEDS_ATTENTION', errorCode: 'USER_ID_ALREADY_ATTACHED', userId: null } });
    await expect(service.query(`UPDATE signups SET capa_user_id = $1 WHERE id = $2`, [userId, other.id])).rejects.toThrow(/signups_capa_user_id_key/);
  });

  it('recordAttempt stores every field of the attempt', async () => {
    const row = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-5' }), { owner: 'o', ms: 60_000 }))!;
    const at = new Date('2026-11-27T10:00:00.123Z');
    await repository.recordAttempt(row.id, 'worker', { at, outcome: 'transient', httpStatus: 503, latencyMs: 42, errorCode: 'HTTP_503', errorMessage: 'down', userId: null });
    await repository.recordAttempt(row.id, 'request', { at, outcome: 'created', httpStatus: 201, latencyMs: 7, errorCode: null, errorMessage: null, userId: '44444444-4444-4444-8444-444444444444' });
    const attempts = await prisma.capaAttempt.findMany({ where: { signupId: row.id }, orderBy: { id: 'asc' } });
    expect(attempts).toEqual([
      expect.objectContaining({ signupId: row.id, at, actor: 'worker', outcome: 'transient', httpStatus: 503, latencyMs: 42, errorCode: 'HTTP_503', errorMessage: 'down', userId: null }),
      expect.objectContaining({ actor: 'request', outcome: 'created', httpStatus: 201, userId: '44444444-4444-4444-8444-444444444444' }),
    ]);
  });

  it('answers null for an unknown id, also for ids SQL would treat specially', async () => {
    for (const id of ['nobody', "o'brien", '%', 'x\\y']) expect(await repository.findByExternalUserId(id)).toBeNull();
  });

  it('survives its idle connections being killed (PostgreSQL restart, proxy timeout) and reconnects', async () => {
    await Promise.all(Array.from({ length: 10 }, () => repository.findByExternalUserId('repo-1')));
    const { rows } = await service.query(
      `SELECT count(pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    expect(rows[0].killed).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await repository.findByExternalUserId('repo-1'))?.status).toBe('CREATED');
    expect((await service.call('GET', '/health/ready')).status).toBe(200);
  });

  it('serves many concurrent lookups over the whole pool', async () => {
    const found = await Promise.all(Array.from({ length: 60 }, () => repository.findByExternalUserId('repo-1')));
    expect(new Set(found.map((row) => row?.userId))).toEqual(new Set(['3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b']));
  });
});
