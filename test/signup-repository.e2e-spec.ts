import { PrismaService } from '../src/persistence/prisma.service';
import { SignupRepository, toRecord } from '../src/persistence/signup.repository';
import { normaliseSignup } from '../src/signups/signup-request';
import { useTestApp } from './support/test-app';

/** findByExternalUserId runs on the adapter's pg pool, not through Prisma: its rows must be exactly Prisma's. */
describe('SignupRepository hot statements (on the adapter pg pool)', () => {
  const service = useTestApp();
  let repository: SignupRepository;
  let prisma: PrismaService;

  beforeAll(() => {
    repository = service.app.get(SignupRepository);
    prisma = service.app.get(PrismaService);
  });

  it('returns the row exactly as Prisma reads it (bigint id, Dates, nulls), for every state a row can be in', async () => {
    const request = normaliseSignup({ externalUserId: 'repo-1', method: 'EMAIL', identifier: 'a@b.co', userType: 'BUSINESS', alias: 'ACME' });
    const inserted = await repository.insertPending(request, { owner: 'test', until: new Date(Date.now() + 60_000) });
    expect(inserted).not.toBeNull();
    const viaPrisma = async () => toRecord((await prisma.signup.findUniqueOrThrow({ where: { externalUserId: 'repo-1' } })) as never);

    const pending = await repository.findByExternalUserId('repo-1');
    expect(pending).toEqual(await viaPrisma());
    expect(typeof pending?.id).toBe('bigint');
    expect(pending?.leaseUntil).toBeInstanceOf(Date);

    await service.query(
      `UPDATE signups SET status = 'CREATED', capa_user_id = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b', lease_owner = NULL, lease_until = NULL,
              error_code = 'X', error_message = 'y', next_attempt_at = now() WHERE external_user_id = 'repo-1'`,
    );
    const created = await repository.findByExternalUserId('repo-1');
    expect(created).toEqual(await viaPrisma());
    expect(created).toMatchObject({ status: 'CREATED', leaseOwner: null, leaseUntil: null, nextAttemptAt: expect.any(Date) });
  });

  it('insertPending writes a leased PENDING row once; the same externalUserId again gives null and changes nothing', async () => {
    const request = normaliseSignup({ externalUserId: 'repo-2' });
    const until = new Date(Date.now() + 60_000);
    const row = await repository.insertPending(request, { owner: 'owner-a', until });
    expect(row).toMatchObject({ externalUserId: 'repo-2', status: 'PENDING', method: 'NONE', identifier: null, leaseOwner: 'owner-a', attemptCount: 0 });
    expect(row?.leaseUntil?.getTime()).toBe(until.getTime());
    expect(row?.nextAttemptAt?.getTime()).toBe(until.getTime());
    expect(row).toEqual(toRecord((await prisma.signup.findUniqueOrThrow({ where: { externalUserId: 'repo-2' } })) as never));
    expect(await repository.insertPending(normaliseSignup({ externalUserId: 'repo-2', alias: 'other' }), { owner: 'owner-b', until })).toBeNull();
    expect(await repository.findByExternalUserId('repo-2')).toEqual(row);
  });

  it('applyTransition: CREATED wins over any lease; other outcomes only for the lease holder; settled rows stay settled', async () => {
    const until = new Date(Date.now() + 60_000);
    const now = new Date();
    const a = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-3' }), { owner: 'owner-a', until }))!;
    const retry = new Date(Date.now() + 30_000);
    expect(await repository.applyTransition(a.id, 'owner-b', { status: 'PENDING', errorCode: 'E', errorMessage: 'm', nextAttemptAt: retry }, 1, now)).toBeNull();
    const pending = await repository.applyTransition(a.id, 'owner-a', { status: 'PENDING', errorCode: 'E', errorMessage: 'm', nextAttemptAt: retry }, 2, now);
    expect(pending).toMatchObject({ status: 'PENDING', errorCode: 'E', leaseOwner: null, leaseUntil: null, attemptCount: 2 });
    expect(pending?.nextAttemptAt?.getTime()).toBe(retry.getTime());

    const created = await repository.applyTransition(a.id, 'someone-else', { status: 'CREATED', capaUserId: '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5c' }, 1, now);
    expect(created).toMatchObject({ status: 'CREATED', capaUserId: '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5c', errorCode: null, nextAttemptAt: null, attemptCount: 3 });
    expect(created).toEqual(toRecord((await prisma.signup.findUniqueOrThrow({ where: { id: a.id } })) as never));
    expect(await repository.applyTransition(a.id, 'owner-a', { status: 'FAILED', errorCode: 'X', errorMessage: 'y' }, 1, now)).toBeNull();
    expect(await repository.applyTransition(a.id, 'owner-a', { status: 'CREATED', capaUserId: '00000000-0000-4000-8000-000000000000' }, 1, now)).toBeNull();

    const b = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-4' }), { owner: 'owner-a', until }))!;
    expect(await repository.applyTransition(b.id, 'owner-a', { status: 'NEEDS_ATTENTION', errorCode: 'EXISTS', errorMessage: 'no id' }, 1, now)).toMatchObject({
      status: 'NEEDS_ATTENTION',
      errorCode: 'EXISTS',
      nextAttemptAt: null,
      leaseOwner: null,
    });
  });

  it('recordAttempt stores every field of the attempt', async () => {
    const row = (await repository.insertPending(normaliseSignup({ externalUserId: 'repo-5' }), { owner: 'o', until: new Date(Date.now() + 60_000) }))!;
    const at = new Date('2026-11-27T10:00:00.123Z');
    await repository.recordAttempt(row.id, 'worker', { at, outcome: 'transient', httpStatus: 503, latencyMs: 42, errorCode: 'HTTP_503', errorMessage: 'down' });
    const attempts = await prisma.capaAttempt.findMany({ where: { signupId: row.id } });
    expect(attempts).toEqual([
      expect.objectContaining({ signupId: row.id, at, actor: 'worker', outcome: 'transient', httpStatus: 503, latencyMs: 42, errorCode: 'HTTP_503', errorMessage: 'down' }),
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
    expect(new Set(found.map((row) => row?.capaUserId))).toEqual(new Set(['3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b']));
  });
});
