import { csvHeaderProblem, rowFromCsvRecord, rowFromJsonLine } from './import-row';

describe('rowFromJsonLine: a line is a POST /v1/users body', () => {
  it.each([
    ['{"externalUserId":"u1"}', { externalUserId: 'u1', method: 'NONE', identifier: null }],
    ['{"externalUserId":"u2","method":"EMAIL","identifier":"A@EXAMPLE.com"}', { method: 'EMAIL', identifier: 'A@example.com' }],
    ['{"externalUserId":"u3","method":"PHONE_NUMBER","identifier":"+524401234567","userType":"BUSINESS","alias":"x"}', { userType: 'BUSINESS', alias: 'x' }],
  ])('%s is a row', (text, expected) => {
    const row = rowFromJsonLine(text, 7);
    expect(row).toMatchObject({ ok: true, line: 7, request: expected });
  });

  it.each([
    ['{"externalUserId":', 'MALFORMED_JSON', null, undefined],
    ['[1,2]', 'VALIDATION_FAILED', null, undefined],
    ['"text"', 'VALIDATION_FAILED', null, undefined],
    ['{"externalUserId":"has space"}', 'VALIDATION_FAILED', 'has space', 'externalUserId'],
    ['{"externalUserId":"u","extra":1}', 'VALIDATION_FAILED', 'u', 'extra'],
    ['{"externalUserId":"u","method":"EMAIL","identifier":"nope"}', 'VALIDATION_FAILED', 'u', 'identifier'],
    ['{"externalUserId":"u","identifier":"a@b.co"}', 'VALIDATION_FAILED', 'u', 'identifier'],
    ['{"externalUserId":5}', 'VALIDATION_FAILED', null, 'externalUserId'],
  ])('%s is a %s row error', (text, code, externalUserId, field) => {
    const row = rowFromJsonLine(text, 3);
    expect(row.ok).toBe(false);
    if (row.ok) return;
    expect(row.error).toMatchObject({ line: 3, code, externalUserId });
    if (field !== undefined) expect(row.error.details.map((detail) => detail.field)).toContain(field);
  });

  it('fingerprints a row exactly as the same body posted alone', () => {
    const a = rowFromJsonLine('{"externalUserId":"u","method":"EMAIL","identifier":"a@X.com"}', 1);
    const b = rowFromJsonLine('{"method":"EMAIL","identifier":"a@x.COM","externalUserId":"u"}', 2);
    expect(a.ok && b.ok && a.request.fingerprint === b.request.fingerprint).toBe(true);
  });
});

describe('rowFromCsvRecord', () => {
  const header = ['externalUserId', 'method', 'identifier'];
  it('treats empty cells as absent fields', () => {
    expect(rowFromCsvRecord(header, ['u1', '', ''], 2)).toMatchObject({ ok: true, request: { method: 'NONE', identifier: null } });
  });
  it('is a row error when the cell count differs from the header', () => {
    expect(rowFromCsvRecord(header, ['u1', 'EMAIL'], 4)).toMatchObject({ ok: false, error: { line: 4, code: 'VALIDATION_FAILED', externalUserId: 'u1' } });
  });
  it('validates like the API', () => {
    expect(rowFromCsvRecord(header, ['u1', 'EMAIL', 'not-an-email'], 5)).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
  });
});

describe('csvHeaderProblem', () => {
  it.each([
    [['externalUserId'], null],
    [['alias', 'externalUserId', 'userType', 'identifier', 'method'], null],
    [['user-1', 'EMAIL', 'a@b.co'], /unknown columns/],
    [['externalUserId', 'email'], /unknown columns/],
    [['externalUserId', 'externalUserId'], /twice/],
    [['method', 'identifier'], /externalUserId/],
  ])('%j -> %s', (header, problem) => {
    const found = csvHeaderProblem(header);
    if (problem === null) expect(found).toBeNull();
    else expect(found?.message).toMatch(problem);
  });
});
