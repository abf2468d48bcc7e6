import { ADMIN_TOKEN, SECOND_INBOUND_TOKEN, useTestApp, uniqueId, usersPath } from './support/test-app';

describe('POST /v1/users rejects bad input before anything is stored or sent', () => {
  const service = useTestApp();

  async function expectRejected(body: unknown, field: string | undefined, status = 400, code = 'VALIDATION_FAILED') {
    const before = service.simulator.stats().requests;
    const response = await service.call('POST', '/v1/users', body);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ statusCode: status, code });
    expect(typeof response.body.message).toBe('string');
    if (field !== undefined) {
      expect(response.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.any(String) })]));
    }
    expect(service.simulator.stats().requests).toBe(before);
    const externalUserId = (body as { externalUserId?: unknown } | null)?.externalUserId;
    if (typeof externalUserId === 'string' && externalUserId.length > 0 && externalUserId.length <= 512) {
      // An id PostgreSQL text cannot hold is refused as a path parameter too (400), never looked up (was a 500).
      const expected = externalUserId.includes('\u0000') ? { status: 400, code: 'VALIDATION_FAILED' } : { status: 404, code: 'NOT_FOUND' };
      const read = await service.call('GET', usersPath(externalUserId));
      expect({ status: read.status, code: read.body.code }).toEqual(expected);
    }
    return response;
  }

  const id = () => uniqueId('v');

  it.each([
    ['missing externalUserId', { method: 'NONE' }, 'externalUserId'],
    ['empty externalUserId', { externalUserId: '' }, 'externalUserId'],
    ['externalUserId of 129 characters', { externalUserId: 'x'.repeat(129) }, 'externalUserId'],
    ['externalUserId with a space', { externalUserId: 'has space' }, 'externalUserId'],
    ['externalUserId with a tab', { externalUserId: 'tab\there' }, 'externalUserId'],
    ['externalUserId with non-ASCII', { externalUserId: 'josé' }, 'externalUserId'],
    ['externalUserId as a number', { externalUserId: 12345 }, 'externalUserId'],
    ['unknown method', { externalUserId: 'm-1', method: 'SMS' }, 'method'],
    ['method in lower case', { externalUserId: 'm-2', method: 'email', identifier: 'a@b.co' }, 'method'],
    ['EMAIL without identifier', { externalUserId: 'e-1', method: 'EMAIL' }, 'identifier'],
    ['EMAIL with null identifier', { externalUserId: 'e-2', method: 'EMAIL', identifier: null }, 'identifier'],
    ['EMAIL with an invalid address', { externalUserId: 'e-3', method: 'EMAIL', identifier: 'not-an-email' }, 'identifier'],
    ['EMAIL with a number identifier', { externalUserId: 'e-4', method: 'EMAIL', identifier: 42 }, 'identifier'],
    ['PHONE_NUMBER without +', { externalUserId: 'p-1', method: 'PHONE_NUMBER', identifier: '524401234567' }, 'identifier'],
    ['PHONE_NUMBER with spaces', { externalUserId: 'p-2', method: 'PHONE_NUMBER', identifier: '+44 7911 123456' }, 'identifier'],
    ['PHONE_NUMBER that is not a real number', { externalUserId: 'p-3', method: 'PHONE_NUMBER', identifier: '+99912345678' }, 'identifier'],
    ['PHONE_NUMBER too short', { externalUserId: 'p-4', method: 'PHONE_NUMBER', identifier: '+4412' }, 'identifier'],
    ['PHONE_NUMBER with an email', { externalUserId: 'p-5', method: 'PHONE_NUMBER', identifier: 'a@b.co' }, 'identifier'],
    ['NONE with an identifier', { externalUserId: 'n-1', method: 'NONE', identifier: 'a@b.co' }, 'identifier'],
    ['identifier without a method', { externalUserId: 'n-2', identifier: 'a@b.co' }, 'identifier'],
    ['unknown userType', { externalUserId: 'u-1', userType: 'PERSON' }, 'userType'],
    ['empty alias', { externalUserId: 'a-1', alias: '' }, 'alias'],
    ['alias of 121 characters', { externalUserId: 'a-2', alias: 'a'.repeat(121) }, 'alias'],
    ['alias as a number', { externalUserId: 'a-3', alias: 7 }, 'alias'],
    ['an unknown field', { externalUserId: 'x-1', email: 'a@b.co' }, 'email'],
    ['alias with NUL (U+0000, which PostgreSQL text cannot store)', { externalUserId: 'nul-1', alias: 'a\u0000b' }, 'alias'],
    ['EMAIL identifier with NUL', { externalUserId: 'nul-2', method: 'EMAIL', identifier: 'a\u0000b@example.com' }, 'identifier'],
    ['externalUserId with NUL', { externalUserId: 'nul\u00003' }, 'externalUserId'],
  ])('%s -> 400 VALIDATION_FAILED', async (_name, body, field) => {
    await expectRejected(body, field);
  });

  it('reports every bad field at once', async () => {
    const response = await expectRejected({ externalUserId: '', method: 'SMS', userType: 'X', extra: 1 }, 'externalUserId');
    const fields = response.body.details.map((detail: { field: string }) => detail.field).sort();
    expect(fields).toEqual(['externalUserId', 'extra', 'method', 'userType']);
  });

  it.each([
    ['an array', [{ externalUserId: 'arr-1' }]],
    ['a string', '"just a string"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('a body that is %s -> 400', async (_name, body) => {
    await expectRejected(body, undefined);
  });

  it('malformed JSON -> 400 MALFORMED_JSON', async () => {
    await expectRejected('{"externalUserId": "broken"', undefined, 400, 'MALFORMED_JSON');
  });

  it('an empty JSON body -> 400 MALFORMED_JSON', async () => {
    await expectRejected('', undefined, 400, 'MALFORMED_JSON');
  });

  it('a body over 16 KiB -> 413', async () => {
    await expectRejected({ externalUserId: id(), alias: 'a'.repeat(17 * 1024) }, undefined, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('a non-JSON content type -> 415', async () => {
    const before = service.simulator.stats().requests;
    const response = await service.call('POST', '/v1/users', 'externalUserId=abc', { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(response.body).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    const form = await service.call('POST', '/v1/users', 'externalUserId=abc', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(service.simulator.stats().requests).toBe(before);
  });

  it('valid edge cases are accepted: 128-char printable id, 120-char alias, NONE with null identifier, real phone', async () => {
    const longId = `${'~!'.repeat(60)}${id()}`.slice(0, 128);
    expect((await service.call('POST', '/v1/users', { externalUserId: longId, method: 'NONE', identifier: null, alias: 'a'.repeat(120) })).status).toBe(201);
    const phone = await service.call('POST', '/v1/users', { externalUserId: id(), method: 'PHONE_NUMBER', identifier: '+447911123456', userType: 'BUSINESS' });
    expect(phone.status).toBe(201);
    expect(phone.body).toMatchObject({ method: 'PHONE_NUMBER', identifier: '+447911123456', userType: 'BUSINESS', status: 'CREATED' });
    const bare = await service.call('POST', '/v1/users', { externalUserId: id() });
    expect(bare.status).toBe(201);
    expect(bare.body).toMatchObject({ method: 'NONE', identifier: null, userType: null, alias: null });
  });

  describe('authentication', () => {
    it('a missing token -> 401 UNAUTHORIZED, nothing sent', async () => {
      const before = service.simulator.stats().requests;
      const response = await service.call('POST', '/v1/users', { externalUserId: id() }, { authorization: '' });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(service.simulator.stats().requests).toBe(before);
    });

    it.each([
      ['a wrong token', 'Bearer nope'],
      ['a token without the Bearer scheme', 'inbound-token-a'],
      ['Basic auth', 'Basic aW5ib3VuZDp0b2tlbg=='],
      ['the admin token', `Bearer ${ADMIN_TOKEN}`],
    ])('%s -> 401', async (_name, authorization) => {
      expect((await service.call('GET', usersPath('anyone'), undefined, { authorization })).status).toBe(401);
      expect((await service.call('POST', '/v1/users', { externalUserId: id() }, { authorization })).status).toBe(401);
    });

    it('every token of INBOUND_API_KEYS works (rotation)', async () => {
      const response = await service.call('POST', '/v1/users', { externalUserId: id() }, { authorization: `Bearer ${SECOND_INBOUND_TOKEN}` });
      expect(response.status).toBe(201);
    });
  });
});
