import { PrismaService } from '../src/persistence/prisma.service';
import { SignupRepository, toRecord } from '../src/persistence/signup.repository';
import { normaliseSignup } from '../src/signups/signup-request';
import { startTestApp, TestApp } from './support/test-app';

/** findByExternalUserId runs on the adapter's pg pool, not through Prisma: its rows must be exactly Prisma's. */
describe('SignupRepository.findByExternalUserId (pg pool, named statement)', () => {
  let service: TestApp;
  let repository: SignupRepository;
  let prisma: PrismaService;

  beforeAll(async () => {
    service = await startTestApp();
    repository = service.app.get(SignupRepository);
    prisma = service.app.get(PrismaService);
  });
  afterAll(() => service.close());

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

  it('answers null for an unknown id, also for ids SQL would treat specially', async () => {
    for (const id of ['nobody', "o'brien", '%', 'x\\y']) expect(await repository.findByExternalUserId(id)).toBeNull();
  });

  it('runs the same statement on every pooled connection many times (named statements are per connection)', async () => {
    const found = await Promise.all(Array.from({ length: 60 }, () => repository.findByExternalUserId('repo-1')));
    expect(new Set(found.map((row) => row?.capaUserId))).toEqual(new Set(['3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b']));
  });
});
