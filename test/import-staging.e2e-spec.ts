import { request as httpRequest } from 'node:http';
import { allRowErrors, ndjson, upload } from './support/imports';
import { INBOUND_TOKEN, useTestApp } from './support/test-app';

/** An upload sent in two parts, `between` running in the pause; answers the import's view. */
async function uploadInTwoParts(baseUrl: string, first: string, second: string, between: () => Promise<void>): Promise<any> {
  const req = httpRequest(new URL('/v1/imports', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${INBOUND_TOKEN}`, 'transfer-encoding': 'chunked' },
  });
  const answer = new Promise<any>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
    });
    req.on('error', reject);
  });
  req.write(first);
  await between();
  req.end(second);
  return answer;
}

describe('POST /v1/imports stages rows by the rules of POST /v1/users (real PostgreSQL)', () => {
  const service = useTestApp({ env: { IMPORT_CAPA_RPS: '1', IMPORT_MAX_ROWS: '5000' } });

  it('rejects exactly the bodies POST /v1/users rejects, with the same details, and fingerprints the rest the same', async () => {
    const tag = `same-${Date.now()}`;
    const bodies: Array<Record<string, unknown>> = [
      { externalUserId: `${tag}-ok-1` },
      { externalUserId: `${tag}-ok-2`, method: 'EMAIL', identifier: 'Mixed.Case@EXAMPLE.com' },
      { externalUserId: `${tag}-ok-3`, method: 'PHONE_NUMBER', identifier: '+524401234567', userType: 'BUSINESS', alias: 'Ünïcode alias' },
      { externalUserId: `${tag}-ok-4`, method: 'NONE', identifier: null, alias: 'x'.repeat(120) },
      { externalUserId: `${tag}-ok-5`, method: 'EMAIL', identifier: 'a+b@sub.example.co' },
      { method: 'NONE' },
      { externalUserId: '' },
      { externalUserId: 'x'.repeat(129) },
      { externalUserId: `${tag} space` },
      { externalUserId: 12345 },
      { externalUserId: `${tag}-m`, method: 'email', identifier: 'a@b.co' },
      { externalUserId: `${tag}-e1`, method: 'EMAIL' },
      { externalUserId: `${tag}-e2`, method: 'EMAIL', identifier: 'not-an-email' },
      { externalUserId: `${tag}-p1`, method: 'PHONE_NUMBER', identifier: '+99912345678' },
      { externalUserId: `${tag}-p2`, method: 'PHONE_NUMBER', identifier: '+44 7911 123456' },
      { externalUserId: `${tag}-n1`, method: 'NONE', identifier: 'a@b.co' },
      { externalUserId: `${tag}-n2`, identifier: 'a@b.co' },
      { externalUserId: `${tag}-u`, userType: 'PERSON' },
      { externalUserId: `${tag}-a1`, alias: '' },
      { externalUserId: `${tag}-a2`, alias: 7 },
      { externalUserId: `${tag}-x`, email: 'a@b.co' },
      { externalUserId: '', method: 'SMS', userType: 'X', extra: 1 },
    ];
    const answers = [];
    for (const body of bodies) answers.push(await service.call('POST', '/v1/users', body));
    const accepted = answers.filter((answer) => answer.status === 201 || answer.status === 202).length;
    expect(accepted).toBe(5);

    const imported = await upload(service.url, ndjson(bodies));
    expect(imported.status).toBe(202);
    // Accepted bodies are the same payloads (same normalisation and fingerprint): already registered, never a conflict.
    expect(imported.body.counts).toMatchObject({ rows: bodies.length, invalid: bodies.length - accepted, alreadyRegistered: accepted, conflicts: 0, pending: 0 });
    const errors = new Map((await allRowErrors(service.url, imported.body.id)).map((error) => [error.line, error]));
    answers.forEach((answer, index) => {
      const line = index + 1;
      if (answer.status === 400) {
        expect({ line, code: errors.get(line)?.code, details: errors.get(line)?.details }).toEqual({ line, code: answer.body.code, details: answer.body.details });
      } else {
        expect({ line, error: errors.get(line) }).toEqual({ line, error: undefined });
      }
    });
  });

  it('a repeated id is DUPLICATE_IN_FILE naming its first line, within a batch and for ids stored before', async () => {
    const tag = `dup-${Date.now()}`;
    for (const suffix of ['same', 'other']) {
      expect((await service.call('POST', '/v1/users', { externalUserId: `${tag}-${suffix}`, alias: 'before' })).status).toBeLessThan(300);
    }
    const rows = [
      { externalUserId: `${tag}-a` },
      { externalUserId: `${tag}-b` },
      { externalUserId: `${tag}-a`, alias: 'again' },
      { externalUserId: `${tag}-same`, alias: 'before' },
      { externalUserId: `${tag}-same`, alias: 'before' },
      { externalUserId: `${tag}-other`, alias: 'changed' },
      { externalUserId: `${tag}-other`, alias: 'changed' },
      { externalUserId: `${tag}-c` },
    ];
    const answer = await upload(service.url, ndjson(rows));
    expect(answer.status).toBe(202);
    expect(answer.body.counts).toMatchObject({ rows: 8, invalid: 3, alreadyRegistered: 1, conflicts: 1 });
    expect(answer.body.counts.pending + answer.body.counts.created).toBe(3);
    const errors = (await allRowErrors(service.url, answer.body.id)).map(({ line, code, message }) => [line, code, /\(line (\d+)\)/.exec(message)?.[1]]);
    expect(errors).toEqual([
      [3, 'DUPLICATE_IN_FILE', '1'],
      [5, 'DUPLICATE_IN_FILE', '4'],
      [6, 'EXTERNAL_USER_ID_CONFLICT', undefined],
      [7, 'DUPLICATE_IN_FILE', '6'],
    ]);
    const stored = await service.query(`SELECT external_user_id, alias FROM signups WHERE external_user_id LIKE $1 ORDER BY id`, [`${tag}-%`]);
    expect(stored.rows).toEqual([
      { external_user_id: `${tag}-same`, alias: 'before' },
      { external_user_id: `${tag}-other`, alias: 'before' },
      { external_user_id: `${tag}-a`, alias: null },
      { external_user_id: `${tag}-b`, alias: null },
      { external_user_id: `${tag}-c`, alias: null },
    ]);
  });

  it('a row whose id another import withdrew (cancel) while this file streamed in still becomes a signup', async () => {
    const tag = `freed-${Date.now()}`;
    // At one Capa call per second the last of these 30 rows is still unsent when it is withdrawn below.
    const other = await upload(service.url, ndjson([...Array.from({ length: 29 }, (_, i) => ({ externalUserId: `${tag}-other-${i}` })), { externalUserId: `${tag}-x` }]));
    expect(other.status).toBe(202);
    // The first 2,000 rows make a full batch: x is written (and left over: another import holds it) before the cancel.
    const first = ndjson([{ externalUserId: `${tag}-x`, alias: 'mine' }, ...Array.from({ length: 1999 }, (_, i) => ({ externalUserId: `${tag}-${i}` }))]);
    const answer = await uploadInTwoParts(service.url, first, ndjson([{ externalUserId: `${tag}-last` }]), async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const cancelled = await service.call('POST', `/v1/imports/${other.body.id}/cancel`);
      expect(cancelled.body.counts.cancelled).toBeGreaterThan(20);
    });
    expect(answer.status).toBe(202);
    expect(answer.body.counts).toMatchObject({ rows: 2001, invalid: 0, alreadyRegistered: 0, conflicts: 0 });
    expect(answer.body.counts.pending + answer.body.counts.created).toBe(2001);
    const stored = await service.query(`SELECT alias, import_id FROM signups WHERE external_user_id = $1`, [`${tag}-x`]);
    expect(stored.rows).toEqual([{ alias: 'mine', import_id: answer.body.id }]);
  }, 30_000);
});
