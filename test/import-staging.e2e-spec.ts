import { allRowErrors, ndjson, upload } from './support/imports';
import { useTestApp } from './support/test-app';

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
});
