import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, INBOUND_TOKEN, TestResponse, useTestApp, uniqueId } from './support/test-app';

interface SeedRow {
  externalUserId: string;
  status?: 'PENDING' | 'CREATED' | 'FAILED' | 'NEEDS_ATTENTION';
  userId?: string | null;
  identifier?: string | null;
}

describe('GET /admin/users: list, filters, search and keyset pagination', () => {
  const service = useTestApp();

  const admin = (path: string, token = ADMIN_TOKEN): Promise<TestResponse> =>
    service.call('GET', path, undefined, { authorization: `Bearer ${token}` });
  const ids = (response: TestResponse): string[] => response.body.items.map((item: { externalUserId: string }) => item.externalUserId);
  const listed = (query: Record<string, string>) => admin(`/admin/users?${new URLSearchParams(query)}`);

  /** Inserts rows in the given order (so ids ascend in that order), straight into PostgreSQL. */
  async function seed(rows: SeedRow[]): Promise<void> {
    for (const row of rows) {
      const status = row.status ?? 'CREATED';
      const userId = row.userId !== undefined ? row.userId : status === 'CREATED' ? randomUUID() : null;
      await service.query(
        `INSERT INTO signups (external_user_id, capa_user_id, status, method, identifier, fingerprint)
         VALUES ($1, $2, $3, $4, $5, 'seeded')`,
        [row.externalUserId, userId, status, row.identifier ? 'EMAIL' : 'NONE', row.identifier ?? null],
      );
    }
  }

  const seedNamed = async (prefix: string, count: number, status?: SeedRow['status']): Promise<string[]> => {
    const names = Array.from({ length: count }, (_, index) => `${prefix}-${String(index).padStart(3, '0')}`);
    await seed(names.map((externalUserId) => ({ externalUserId, status })));
    return names;
  };

  describe('auth', () => {
    it.each([
      ['no token', undefined],
      ['an inbound token', INBOUND_TOKEN],
      ['a wrong token', 'not-the-admin-token'],
    ])('answers 401 UNAUTHORIZED with %s', async (_name, token) => {
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/admin/users'],
        ['GET', '/admin/users/someone'],
        ['POST', '/admin/users/someone/retry'],
        ['POST', '/admin/users/someone/resolve', { userId: randomUUID() }],
        ['GET', '/admin/stats'],
      ];
      for (const [method, path, body] of routes) {
        const headers: Record<string, string> = { authorization: token === undefined ? '' : `Bearer ${token}` };
        const response = await service.call(method, path, body, headers);
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
        expect(response.body).toEqual({ statusCode: 401, code: 'UNAUTHORIZED', message: expect.any(String) });
      }
    });
  });

  it('lists newest first, each item the mapping', async () => {
    const prefix = uniqueId('newest');
    const names = await seedNamed(prefix, 4);
    const response = await listed({ search: prefix });
    expect(response.status).toBe(200);
    expect(ids(response)).toEqual([...names].reverse());
    expect(response.body.nextCursor).toBeNull();
    expect(response.body.items[0]).toEqual({
      externalUserId: names[3],
      userId: expect.any(String),
      status: 'CREATED',
      method: 'NONE',
      identifier: null,
      userType: null,
      alias: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      kyc: { status: 'NOT_STARTED', kind: 'KYC', updatedAt: null, linkIssuedAt: null },
      erasedAt: null,
    });
  });

  it('filters by status, alone and with a search', async () => {
    const prefix = uniqueId('status');
    await seed([
      { externalUserId: `${prefix}-1`, status: 'FAILED' },
      { externalUserId: `${prefix}-2`, status: 'CREATED' },
      { externalUserId: `${prefix}-3`, status: 'NEEDS_ATTENTION' },
      { externalUserId: `${prefix}-4`, status: 'FAILED' },
    ]);
    expect(ids(await listed({ search: prefix, status: 'FAILED' }))).toEqual([`${prefix}-4`, `${prefix}-1`]);
    expect(ids(await listed({ search: prefix, status: 'NEEDS_ATTENTION' }))).toEqual([`${prefix}-3`]);
    expect(ids(await listed({ search: prefix, status: 'PENDING' }))).toEqual([]);
    const allFailed = await listed({ status: 'FAILED', limit: '100' });
    expect(allFailed.body.items.length).toBeGreaterThanOrEqual(2);
    expect(new Set(allFailed.body.items.map((item: { status: string }) => item.status))).toEqual(new Set(['FAILED']));
  });

  it('treats blank status and search (an empty form field) as no filter', async () => {
    const response = await admin('/admin/users?status=&search=&limit=1');
    expect(response.status).toBe(200);
    expect(response.body.items).toHaveLength(1);
  });

  describe('search', () => {
    it('matches a prefix of externalUserId, not a substring', async () => {
      const prefix = uniqueId('prefix');
      await seed([{ externalUserId: `${prefix}-alpha` }, { externalUserId: `${prefix}-beta` }, { externalUserId: `x-${prefix}` }]);
      expect(ids(await listed({ search: `${prefix}-al` }))).toEqual([`${prefix}-alpha`]);
      expect(ids(await listed({ search: prefix }))).toEqual([`${prefix}-beta`, `${prefix}-alpha`]);
    });

    it("matches Capa's userId exactly (a prefix of it finds nothing)", async () => {
      const externalUserId = uniqueId('by-capa');
      const userId = randomUUID();
      await seed([{ externalUserId, userId }]);
      expect(ids(await listed({ search: userId }))).toEqual([externalUserId]);
      expect(ids(await listed({ search: userId.slice(0, 13) }))).toEqual([]);
    });

    it('matches the identifier exactly (a prefix of it finds nothing)', async () => {
      const externalUserId = uniqueId('by-identifier');
      const identifier = `${uniqueId('mail')}@capa.fi`;
      await seed([{ externalUserId, identifier, status: 'FAILED' }]);
      expect(ids(await listed({ search: identifier }))).toEqual([externalUserId]);
      expect(ids(await listed({ search: identifier, status: 'FAILED' }))).toEqual([externalUserId]);
      expect(ids(await listed({ search: identifier, status: 'CREATED' }))).toEqual([]);
      expect(ids(await listed({ search: identifier.slice(0, -3) }))).toEqual([]);
    });

    it('takes %, _ and \\ literally', async () => {
      const prefix = uniqueId('escape');
      await seed(['a%b', 'axb', 'a_c', 'ayc', 'a\\d', 'a\\\\d'].map((suffix) => ({ externalUserId: `${prefix}-${suffix}` })));
      expect(ids(await listed({ search: `${prefix}-a%` }))).toEqual([`${prefix}-a%b`]);
      expect(ids(await listed({ search: `${prefix}-a_` }))).toEqual([`${prefix}-a_c`]);
      expect(ids(await listed({ search: `${prefix}-a\\d` }))).toEqual([`${prefix}-a\\d`]);
      expect(ids(await listed({ search: `${prefix}-%` }))).toEqual([]);
    });
  });

  describe('pagination', () => {
    it('walks 3 pages without duplicates or gaps, and rows added meanwhile do not shift it', async () => {
      const prefix = uniqueId('pages');
      const names = await seedNamed(prefix, 7);
      const first = await listed({ search: prefix, limit: '3' });
      expect(ids(first)).toEqual(names.slice(4).reverse());
      expect(typeof first.body.nextCursor).toBe('string');

      await seed([{ externalUserId: `${prefix}-newer` }]);
      const second = await listed({ search: prefix, limit: '3', cursor: first.body.nextCursor });
      const third = await listed({ search: prefix, limit: '3', cursor: second.body.nextCursor });
      expect(ids(second)).toEqual(names.slice(1, 4).reverse());
      expect(ids(third)).toEqual([names[0]]);
      expect(third.body.nextCursor).toBeNull();
    });

    it('keeps the status filter across pages', async () => {
      const prefix = uniqueId('status-pages');
      await seed(
        Array.from({ length: 6 }, (_, index) => ({ externalUserId: `${prefix}-${index}`, status: index % 2 === 0 ? ('FAILED' as const) : ('CREATED' as const) })),
      );
      const first = await listed({ search: prefix, status: 'FAILED', limit: '2' });
      const second = await listed({ search: prefix, status: 'FAILED', limit: '2', cursor: first.body.nextCursor });
      expect([...ids(first), ...ids(second)]).toEqual([`${prefix}-4`, `${prefix}-2`, `${prefix}-0`]);
      expect(second.body.nextCursor).toBeNull();
    });

    it('a page that ends exactly at the last row has no nextCursor', async () => {
      const prefix = uniqueId('exact');
      await seedNamed(prefix, 2);
      expect((await listed({ search: prefix, limit: '2' })).body.nextCursor).toBeNull();
    });

    it('pages 50 by default and allows up to 100', async () => {
      const prefix = uniqueId('default-limit');
      await service.query(
        `INSERT INTO signups (external_user_id, status, method, fingerprint)
         SELECT $1 || '-' || lpad(n::text, 3, '0'), 'CREATED', 'NONE', 'seeded' FROM generate_series(1, 120) AS n`,
        [prefix],
      );
      const byDefault = await listed({ search: prefix });
      expect(byDefault.body.items).toHaveLength(50);
      expect(byDefault.body.nextCursor).not.toBeNull();
      expect((await listed({ search: prefix, limit: '100' })).body.items).toHaveLength(100);
    });
  });

  describe('bad parameters: 400 VALIDATION_FAILED in the error shape', () => {
    it.each([
      ['limit=0', 'limit=0', 'limit'],
      ['limit=101', 'limit=101', 'limit'],
      ['limit=abc', 'limit=abc', 'limit'],
      ['limit=1.5', 'limit=1.5', 'limit'],
      ['limit=-1', 'limit=-1', 'limit'],
      ['status=DONE', 'status=DONE', 'status'],
      ['status=created', 'status=created', 'status'],
      ['cursor=abc', 'cursor=abc', 'cursor'],
      ['cursor=12345', 'cursor=12345', 'cursor'],
      ['cursor of a negative id', `cursor=${Buffer.from('-3').toString('base64url')}`, 'cursor'],
      ['cursor beyond bigint', `cursor=${Buffer.from('99999999999999999999').toString('base64url')}`, 'cursor'],
      ['search longer than 256', `search=${'x'.repeat(257)}`, 'search'],
      ['unknown=1', 'unknown=1', 'unknown'],
    ])('%s', async (_label, query, field) => {
      const response = await admin(`/admin/users?${query}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: expect.any(String),
        details: [expect.objectContaining({ field, message: expect.any(String) })],
      });
    });
  });
});
