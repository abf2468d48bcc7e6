import { UUID_V4, baseUrl, createUser, simulator, startSimulator, userIdOf } from './simulator.fixture';

beforeEach(() => startSimulator());
afterEach(() => simulator.stop());

describe('create user', () => {
  it('answers 201 with a uuid v4 userId and records the user', async () => {
    const response = await createUser({
      externalUserId: 'ext-1',
      method: 'EMAIL',
      identifier: 'money@capa.fi',
      userType: 'INDIVIDUAL',
      alias: 'Satoshi Nakamoto',
    });

    expect(response.status).toBe(201);
    const body = (await response.json()) as { status: string; data: { userId: string } };
    expect(body.status).toBe('ok');
    expect(body.data.userId).toMatch(UUID_V4);
    expect(simulator.userFor('ext-1')).toEqual({
      userId: body.data.userId,
      calls: 1,
      payload: {
        externalUserId: 'ext-1',
        method: 'EMAIL',
        identifier: 'money@capa.fi',
        userType: 'INDIVIDUAL',
        alias: 'Satoshi Nakamoto',
      },
    });
    expect(simulator.stats()).toMatchObject({ requests: 1, usersCreated: 1, byStatus: { '201': 1 } });
  });

  it('accepts phone numbers and method NONE with a null identifier', async () => {
    expect((await createUser({ externalUserId: 'p', method: 'PHONE_NUMBER', identifier: '+524401234567' })).status).toBe(201);
    expect((await createUser({ externalUserId: 'n', method: 'NONE', identifier: null })).status).toBe(201);
    expect((await createUser({ externalUserId: 'bare' })).status).toBe(201);
    expect(simulator.stats().usersCreated).toBe(3);
  });

  it('is idempotent on externalUserId: a repeat returns the same userId', async () => {
    const first = await userIdOf(await createUser({ externalUserId: 'same' }));
    const repeat = await createUser({ externalUserId: 'same', alias: 'changed' });

    expect(repeat.status).toBe(201);
    expect(await userIdOf(repeat)).toBe(first);
    expect(simulator.stats()).toMatchObject({ requests: 2, usersCreated: 1, duplicateRequests: 1, maxCallsPerUser: 2 });
    expect(simulator.callsFor('same')).toBe(2);
  });

  it("answers 409 without a userId for a repeat in duplicateMode 'error'", async () => {
    await startSimulator({ duplicateMode: 'error' });
    const first = await userIdOf(await createUser({ externalUserId: 'dup' }));
    const repeat = await createUser({ externalUserId: 'dup' });

    expect(repeat.status).toBe(409);
    const body = (await repeat.json()) as Record<string, unknown>;
    expect(body).toEqual({ statusCode: 409, message: 'User with this externalUserId already exists', error: 'CONFLICT' });
    expect(JSON.stringify(body)).not.toContain(first);
    expect(simulator.stats()).toMatchObject({ usersCreated: 1, duplicateRequests: 1 });
    expect(simulator.userFor('dup')?.userId).toBe(first);
  });
});

describe('validation', () => {
  const cases: Array<{ name: string; body: unknown; code: string; message?: string }> = [
    { name: 'missing externalUserId', body: { method: 'NONE' }, code: 'INVALID_USER_INPUT_ERROR' },
    { name: 'empty externalUserId', body: { externalUserId: '' }, code: 'INVALID_USER_INPUT_ERROR' },
    { name: 'numeric externalUserId', body: { externalUserId: 42 }, code: 'INVALID_USER_INPUT_ERROR' },
    { name: 'unknown method', body: { externalUserId: 'v', method: 'SMS' }, code: 'INVALID_USER_INPUT_ERROR' },
    {
      name: 'invalid email',
      body: { externalUserId: 'v', method: 'EMAIL', identifier: 'not-an-email' },
      code: 'BAD_REQUEST',
      message: 'Provided email is not valid',
    },
    {
      name: 'EMAIL without identifier',
      body: { externalUserId: 'v', method: 'EMAIL' },
      code: 'BAD_REQUEST',
      message: 'Provided email is not valid',
    },
    {
      name: 'phone without plus',
      body: { externalUserId: 'v', method: 'PHONE_NUMBER', identifier: '524401234567' },
      code: 'INVALID_USER_INPUT_ERROR',
    },
    {
      name: 'phone too short',
      body: { externalUserId: 'v', method: 'PHONE_NUMBER', identifier: '+12345' },
      code: 'INVALID_USER_INPUT_ERROR',
    },
    {
      name: 'identifier with NONE',
      body: { externalUserId: 'v', method: 'NONE', identifier: 'money@capa.fi' },
      code: 'INVALID_USER_INPUT_ERROR',
    },
    {
      name: 'identifier without method',
      body: { externalUserId: 'v', identifier: 'money@capa.fi' },
      code: 'INVALID_USER_INPUT_ERROR',
    },
    { name: 'unknown userType', body: { externalUserId: 'v', userType: 'ROBOT' }, code: 'INVALID_USER_INPUT_ERROR' },
    { name: 'non-string alias', body: { externalUserId: 'v', alias: 7 }, code: 'INVALID_USER_INPUT_ERROR' },
    {
      name: 'unknown field',
      body: { externalUserId: 'v', email: 'money@capa.fi' },
      code: 'INVALID_USER_INPUT_ERROR',
      message: 'property email should not exist',
    },
    { name: 'array body', body: [{ externalUserId: 'v' }], code: 'BAD_REQUEST' },
    { name: 'null body', body: null, code: 'BAD_REQUEST' },
  ];

  it.each(cases)('rejects $name with 400 and creates nothing', async ({ body, code, message }) => {
    const response = await createUser(body);

    expect(response.status).toBe(400);
    const error = (await response.json()) as { statusCode: number; error: string; message: string };
    expect(error.statusCode).toBe(400);
    expect(error.error).toBe(code);
    if (message) expect(error.message).toBe(message);
    expect(simulator.stats()).toMatchObject({ usersCreated: 0, byStatus: { '400': 1 } });
    expect(simulator.userFor('v')).toBeUndefined();
  });

  it('rejects a non-JSON content type and malformed JSON', async () => {
    const textPlain = await createUser(null, {
      headers: { 'content-type': 'text/plain' },
      rawBody: JSON.stringify({ externalUserId: 'v' }),
    });
    const malformed = await createUser(null, { rawBody: '{"externalUserId":' });

    expect(textPlain.status).toBe(400);
    expect(malformed.status).toBe(400);
    expect(simulator.stats().usersCreated).toBe(0);
  });

  it('rejects a body over 16 KiB', async () => {
    const response = await createUser({ externalUserId: 'v', alias: 'x'.repeat(17 * 1024) });

    expect(response.status).toBe(413);
    expect(simulator.stats().usersCreated).toBe(0);
  });
});

describe('authentication', () => {
  it('rejects a missing key with 401 "API Key is missing"', async () => {
    const response = await fetch(`${baseUrl}/api/partner/v1/user`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ externalUserId: 'a' }),
    });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ statusCode: 401, message: 'API Key is missing', error: 'UNAUTHORIZED' });
    expect(simulator.stats().usersCreated).toBe(0);
  });

  it('rejects a wrong key with 401 "Invalid API Key"', async () => {
    const response = await createUser({ externalUserId: 'a' }, { headers: { 'partner-api-key': 'wrong' } });

    expect(response.status).toBe(401);
    expect(((await response.json()) as { message: string }).message).toBe('Invalid API Key');
    expect(simulator.userFor('a')).toBeUndefined();
  });

  it('uses the capa error shape when configured', async () => {
    await startSimulator({ errorShape: 'capa' });
    const response = await createUser({ externalUserId: 'a' }, { headers: { 'partner-api-key': 'wrong' } });

    expect(await response.json()).toEqual({ success: false, error: { message: 'Invalid API Key', id: 'UNAUTHORIZED' } });
  });
});
