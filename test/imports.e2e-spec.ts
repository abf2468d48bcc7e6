import { allRowErrors, ndjson, upload, uploadCutOff, waitForImport } from './support/imports';
import { ADMIN_TOKEN, useTestApp } from './support/test-app';

const settled = (view: any) => view.counts.pending === 0 && view.status !== 'RUNNING';

describe('POST /v1/imports (real PostgreSQL, simulator over HTTP)', () => {
  const service = useTestApp({ env: { IMPORT_CAPA_RPS: '400', CAPA_TIMEOUT_MS: '5000', REQUEST_DEADLINE_MS: '6000', IMPORT_MAX_ROWS: '5000', IMPORT_MAX_BYTES: String(1024 * 1024), WORKER_BATCH_SIZE: '200' } });

  async function stored(sql: string, params: unknown[] = []): Promise<number> {
    return Number((await service.query(sql, params)).rows[0].count);
  }

  it('stages a few thousand rows with exact counts for invalid, already registered, conflicting and duplicate rows', async () => {
    const tag = `mix-${Date.now()}`;
    // Registered before the import: 20 with the same payload, 10 that the file sends with another payload.
    for (let i = 0; i < 30; i++) {
      const created = await service.call('POST', '/v1/users', { externalUserId: `${tag}-pre-${i}`, method: 'EMAIL', identifier: `pre${i}@example.com` });
      expect(created.status).toBe(201);
    }
    const rows: unknown[] = [];
    for (let i = 0; i < 3000; i++) rows.push({ externalUserId: `${tag}-${i}`, method: 'EMAIL', identifier: `u${i}@Example.com` });
    for (let i = 0; i < 20; i++) rows.push({ externalUserId: `${tag}-pre-${i}`, method: 'EMAIL', identifier: `pre${i}@EXAMPLE.com` });
    for (let i = 20; i < 30; i++) rows.push({ externalUserId: `${tag}-pre-${i}`, method: 'EMAIL', identifier: `other${i}@example.com` });
    for (let i = 0; i < 40; i++) rows.push({ externalUserId: `${tag}-bad-${i}`, method: 'EMAIL', identifier: 'not-an-email' });
    rows.push('{"externalUserId": broken');
    rows.push({ externalUserId: `${tag}-0`, method: 'NONE' });
    rows.push({ externalUserId: `${tag}-x`, unknownField: 1 });
    const file = ndjson(rows).replace('\n', '\n\n');

    const answer = await upload(service.url, file);
    expect(answer.status).toBe(202);
    expect(answer.headers.get('location')).toBe(`/v1/imports/${answer.body.id}`);
    expect(answer.body).toMatchObject({
      status: 'RUNNING',
      counts: { rows: 3073, invalid: 43, alreadyRegistered: 20, conflicts: 10, cancelled: 0 },
    });
    expect(answer.body.counts.pending + answer.body.counts.created).toBe(3000);

    const done = await waitForImport(service.url, answer.body.id, settled);
    expect(done).toMatchObject({
      status: 'COMPLETED',
      counts: { rows: 3073, invalid: 43, alreadyRegistered: 20, conflicts: 10, pending: 0, created: 3000, failed: 0, needsAttention: 0, cancelled: 0 },
      etaSeconds: 0,
    });
    expect(done.finishedAt).not.toBeNull();
    expect(service.simulator.stats().usersCreated).toBeGreaterThanOrEqual(3030);
    expect(await stored(`SELECT count(*) FROM signups WHERE external_user_id LIKE $1 AND status = 'CREATED'`, [`${tag}-%`])).toBe(3030);
    expect(service.simulator.userFor(`${tag}-pre-25`)?.payload.identifier).toBe('pre25@example.com');

    const errors = await allRowErrors(service.url, answer.body.id, 7);
    expect(errors).toHaveLength(53);
    expect(errors.map((error) => error.line)).toEqual([...errors.map((error) => error.line)].sort((a, b) => a - b));
    // The blank line after line 1 shifts every later line by one.
    expect(errors.filter((error) => error.code === 'EXTERNAL_USER_ID_CONFLICT').map((error) => error.line)).toEqual(
      Array.from({ length: 10 }, (_, i) => 3022 + i),
    );
    expect(errors.find((error) => error.line === 3073)).toMatchObject({ code: 'DUPLICATE_IN_FILE', externalUserId: `${tag}-0` });
    expect(errors.find((error) => error.line === 3072)).toMatchObject({ code: 'MALFORMED_JSON' });
    expect(errors.find((error) => error.line === 3074)).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'unknownField', message: expect.any(String) }],
    });
    expect(errors.find((error) => error.line === 3032)).toMatchObject({ code: 'VALIDATION_FAILED', externalUserId: `${tag}-bad-0`, details: [{ field: 'identifier' }] });

    const list = await service.call('GET', '/v1/imports');
    expect(list.body.items[0].id).toBe(answer.body.id);
  }, 120_000);

  it('reads CSV with a header, empty cells as absent, lines counted from the header', async () => {
    const tag = `csv-${Date.now()}`;
    const file = `externalUserId,method,identifier,alias\r\n${tag}-1,EMAIL,a@example.com,\r\n${tag}-2,,,Bob\r\n\r\n${tag}-3,PHONE_NUMBER,12,\r\n`;
    const answer = await upload(service.url, file, 'text/csv; charset=utf-8');
    expect(answer.status).toBe(202);
    expect(answer.body.counts).toMatchObject({ rows: 3, invalid: 1 });
    const errors = await allRowErrors(service.url, answer.body.id);
    expect(errors).toEqual([expect.objectContaining({ line: 5, externalUserId: `${tag}-3`, code: 'VALIDATION_FAILED' })]);
    await waitForImport(service.url, answer.body.id, settled);
    const row = (await service.call('GET', `/v1/users/${tag}-2`)).body;
    expect(row).toMatchObject({ status: 'CREATED', method: 'NONE', identifier: null, alias: 'Bob' });
  });

  describe('bad files: nothing staged', () => {
    it.each([
      ['a CSV without a header', 'u1,EMAIL,a@example.com\n', 'text/csv', 400],
      ['a CSV with an unknown column', 'externalUserId,email\nu1,a@example.com\n', 'text/csv', 400],
      ['a file that is not NDJSON', '<html><body>hi</body></html>\n', 'application/x-ndjson', 400],
      ['an empty file', '', 'application/x-ndjson', 400],
      ['a JSON document', '{"externalUserId":"u1"}', 'application/json', 415],
      ['plain text', 'externalUserId\nu1\n', 'text/plain', 415],
      ['XML', '<users/>', 'application/xml', 415],
    ])('%s', async (_name, body, contentType, status) => {
      const before = await stored('SELECT count(*) FROM imports');
      const answer = await upload(service.url, body, contentType);
      expect(answer.status).toBe(status);
      expect(answer.body).toMatchObject({ statusCode: status, code: expect.any(String), message: expect.any(String) });
      expect(await stored('SELECT count(*) FROM imports')).toBe(before);
    });

    it('over the row limit: 413', async () => {
      const before = await stored('SELECT count(*) FROM signups');
      const rows = Array.from({ length: 5001 }, (_, i) => ({ externalUserId: `limit-${Date.now()}-${i}` }));
      const answer = await upload(service.url, ndjson(rows));
      expect(answer.status).toBe(413);
      expect(answer.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(await stored('SELECT count(*) FROM signups')).toBe(before);
    });

    it('over the size limit: 413', async () => {
      const before = await stored('SELECT count(*) FROM signups');
      const rows = Array.from({ length: 4000 }, (_, i) => ({ externalUserId: `size-${Date.now()}-${i}`, alias: 'x'.repeat(300) }));
      const answer = await upload(service.url, ndjson(rows));
      expect(answer.status).toBe(413);
      expect(await stored('SELECT count(*) FROM signups')).toBe(before);
    });

    it('an upload cut off mid-body leaves nothing behind', async () => {
      const imports = await stored('SELECT count(*) FROM imports');
      const rows = Array.from({ length: 3000 }, (_, i) => ({ externalUserId: `cut-${i}` }));
      await uploadCutOff(service.url, ndjson(rows));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await stored('SELECT count(*) FROM imports')).toBe(imports);
      expect(await stored(`SELECT count(*) FROM signups WHERE external_user_id LIKE 'cut-%'`)).toBe(0);
      expect((await service.call('GET', '/health/ready')).status).toBe(200);
    });

    it('POST /v1/users still refuses CSV and NDJSON (415)', async () => {
      const answer = await service.call('POST', '/v1/users', 'externalUserId\nu1\n', { 'content-type': 'text/csv' });
      expect(answer.status).toBe(415);
    });
  });

  it('needs the inbound token; the admin routes need the admin token', async () => {
    expect((await upload(service.url, ndjson([{ externalUserId: 'x' }]), 'application/x-ndjson', 'wrong')).status).toBe(401);
    expect((await service.call('GET', '/v1/imports', undefined, { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await service.call('GET', '/admin/imports')).status).toBe(401);
    expect((await service.call('GET', '/admin/imports', undefined, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(200);
  });

  it('unknown import ids are 404', async () => {
    expect((await service.call('GET', '/v1/imports/not-a-uuid')).status).toBe(404);
    expect((await service.call('GET', '/v1/imports/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await service.call('POST', '/v1/imports/00000000-0000-4000-8000-000000000000/cancel')).status).toBe(404);
  });
});
