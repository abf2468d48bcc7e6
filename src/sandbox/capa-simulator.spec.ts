import { CapaSimulator, type CapaSimulatorOptions } from './capa-simulator';

const API_KEY = 'test-partner-key';
// fetch's TypeError belongs to another realm than Jest's, so network errors are matched by message.
const NETWORK_ERROR = 'fetch failed';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let simulator: CapaSimulator;
let baseUrl: string;

async function startSimulator(options: CapaSimulatorOptions = {}): Promise<void> {
  await simulator?.stop();
  simulator = new CapaSimulator({ apiKeys: [API_KEY], ...options });
  baseUrl = await simulator.start();
}

function createUser(
  body: unknown,
  init: { headers?: Record<string, string>; signal?: AbortSignal; rawBody?: string } = {},
): Promise<Response> {
  return fetch(`${baseUrl}/api/partner/v1/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'partner-api-key': API_KEY, ...init.headers },
    body: init.rawBody ?? JSON.stringify(body),
    signal: init.signal,
  });
}

async function userIdOf(response: Response): Promise<string> {
  const body = (await response.json()) as { data: { userId: string } };
  return body.data.userId;
}

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

describe('scripted faults', () => {
  it('answers scripted statuses in order, with Retry-After, without creating users', async () => {
    simulator.setFaults({
      script: [
        { kind: 'status', status: 429, retryAfter: '2' },
        { kind: 'status', status: 503 },
        { kind: 'status', status: 401, body: { statusCode: 401, message: 'Invalid API Key', error: 'UNAUTHORIZED' } },
      ],
    });

    const tooMany = await createUser({ externalUserId: 'f' });
    const unavailable = await createUser({ externalUserId: 'f' });
    const unauthorized = await createUser({ externalUserId: 'f' });
    const normal = await createUser({ externalUserId: 'f' });

    expect(tooMany.status).toBe(429);
    expect(tooMany.headers.get('retry-after')).toBe('2');
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBeNull();
    expect(unauthorized.status).toBe(401);
    expect(((await unauthorized.json()) as { message: string }).message).toBe('Invalid API Key');
    expect(normal.status).toBe(201);
    expect(simulator.stats()).toMatchObject({
      requests: 4,
      usersCreated: 1,
      byStatus: { '429': 1, '503': 1, '401': 1, '201': 1 },
    });
    expect(simulator.callsFor('f')).toBe(4);
  });

  it('reset: the client sees a network error and no user is created', async () => {
    simulator.setFaults({ script: [{ kind: 'reset' }] });

    await expect(createUser({ externalUserId: 'r' })).rejects.toThrow(NETWORK_ERROR);
    expect(simulator.userFor('r')).toBeUndefined();
    expect(simulator.stats()).toMatchObject({ requests: 1, resets: 1, usersCreated: 0 });
  });

  it('timeout: the request hangs until the client aborts', async () => {
    simulator.setFaults({ script: [{ kind: 'timeout' }] });
    const started = Date.now();

    await expect(createUser({ externalUserId: 't' }, { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(simulator.stats()).toMatchObject({ timeouts: 1, usersCreated: 0 });
  });

  it('timeout: the socket is destroyed after timeoutHangMs', async () => {
    simulator.setFaults({ timeoutHangMs: 100, script: [{ kind: 'timeout' }] });

    await expect(createUser({ externalUserId: 't' }, { signal: AbortSignal.timeout(5000) })).rejects.toThrow(NETWORK_ERROR);
  });

  it('stop() does not wait for a hung request', async () => {
    simulator.setFaults({ script: [{ kind: 'timeout' }] });
    const hung = createUser({ externalUserId: 't' }).catch((error: unknown) => error);
    await waitFor(() => simulator.stats().timeouts === 1);

    const started = Date.now();
    await simulator.stop();

    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hung).toMatchObject({ message: NETWORK_ERROR });
  });

  it('commit-then-reset: the user exists although the client saw an error', async () => {
    simulator.setFaults({ script: [{ kind: 'commit-then-reset' }] });

    await expect(createUser({ externalUserId: 'c' })).rejects.toThrow(NETWORK_ERROR);
    const stored = simulator.userFor('c');
    expect(stored?.userId).toMatch(UUID_V4);

    const retry = await createUser({ externalUserId: 'c' });
    expect(await userIdOf(retry)).toBe(stored?.userId);
    expect(simulator.stats()).toMatchObject({ usersCreated: 1, resets: 1, duplicateRequests: 1 });
  });

  it('commit-then-500: the user exists although the client saw a 500', async () => {
    simulator.setFaults({ script: [{ kind: 'commit-then-500' }] });

    const response = await createUser({ externalUserId: 'c5' });

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ statusCode: 500, message: 'User creation failed', error: 'INTERNAL_SERVER_ERROR' });
    expect(simulator.userFor('c5')?.userId).toMatch(UUID_V4);
  });
});

describe('random faults', () => {
  async function runChaos(seed: number): Promise<string[]> {
    simulator.reset();
    simulator.setFaults({ random: { seed, status500: 0.3, status429: 0.2, reset: 0.1, retryAfter: '1' } });
    const outcomes: string[] = [];
    for (let i = 0; i < 40; i++) {
      try {
        outcomes.push(String((await createUser({ externalUserId: `chaos-${i}` })).status));
      } catch {
        outcomes.push('reset');
      }
    }
    return outcomes;
  }

  it('are repeatable with the same seed and differ with another', async () => {
    const first = await runChaos(42);
    const second = await runChaos(42);
    const other = await runChaos(7);

    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set(['201', '500', '429', 'reset']));
  });
});

describe('latency', () => {
  it('delays answers by latencyMs', async () => {
    await startSimulator({ latencyMs: 250 });
    const started = Date.now();

    const response = await createUser({ externalUserId: 'slow' });

    expect(response.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('adds fault latencyMs to the base latency', async () => {
    simulator.setFaults({ latencyMs: 200 });
    const started = Date.now();

    await createUser({ externalUserId: 'slow' });

    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('firstCallLatencyMs: the first call creates the user at once and answers late; a repeat meanwhile answers at once', async () => {
    await startSimulator({ duplicateMode: 'error' });
    simulator.setFaults({ firstCallLatencyMs: 600 });
    const started = Date.now();
    const first = createUser({ externalUserId: 'overtaken' });
    await waitFor(() => simulator.userFor('overtaken') !== undefined);
    const repeat = await createUser({ externalUserId: 'overtaken' });
    expect(repeat.status).toBe(409);
    expect(Date.now() - started).toBeLessThan(500);
    const answer = await first;
    expect(answer.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(590);
    expect(await userIdOf(answer)).toBe(simulator.userFor('overtaken')?.userId);
  });
});

describe('control API over HTTP', () => {
  it('sets faults, reports stats and users, and resets', async () => {
    const setFaults = await fetch(`${baseUrl}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script: [{ kind: 'status', status: 503, retryAfter: '3' }] }),
    });
    expect(setFaults.status).toBe(200);

    const unavailable = await createUser({ externalUserId: 'a/b c' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('3');
    const userId = await userIdOf(await createUser({ externalUserId: 'a/b c' }));

    const stats = await (await fetch(`${baseUrl}/__sim/stats`)).json();
    expect(stats).toEqual({
      requests: 2,
      byStatus: { '503': 1, '201': 1 },
      usersCreated: 1,
      duplicateRequests: 0,
      resets: 0,
      timeouts: 0,
      maxCallsPerUser: 2,
    });

    const user = await fetch(`${baseUrl}/__sim/users/${encodeURIComponent('a/b c')}`);
    expect(user.status).toBe(200);
    expect(await user.json()).toEqual({ userId, calls: 2, payload: { externalUserId: 'a/b c' } });
    expect((await fetch(`${baseUrl}/__sim/users/unknown`)).status).toBe(404);

    expect((await fetch(`${baseUrl}/__sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(simulator.stats()).toMatchObject({ requests: 0, usersCreated: 0, byStatus: {} });
    expect(simulator.userFor('a/b c')).toBeUndefined();
  });

  it('rejects an invalid fault config', async () => {
    const response = await fetch(`${baseUrl}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ script: [{ kind: 'explode' }] }),
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain('script[0].kind');
  });

  it('answers 404 JSON for any other path', async () => {
    const response = await fetch(`${baseUrl}/api/partner/v2/users`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(((await response.json()) as { statusCode: number }).statusCode).toBe(404);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('create-user call spans (when each call was open, per externalUserId)', () => {
  it('records a call aborted by the client as ended when its connection closed, and finds calls for one id open at once', async () => {
    simulator.setFaults({ latencyMs: 300 });
    const aborted = new AbortController();
    const first = createUser({ externalUserId: 'span-1', method: 'NONE' }, { signal: aborted.signal }).catch((error: Error) => error);
    while (simulator.createUserCallSpans().length === 0 || simulator.createUserCallSpans()[0].externalUserId === null) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    aborted.abort();
    expect(await first).toMatchObject({ name: 'AbortError' });
    while (simulator.createUserCallSpans()[0].end === null) await new Promise((resolve) => setTimeout(resolve, 5));
    // Sequential calls for one id do not overlap; two open at once do.
    await createUser({ externalUserId: 'span-1', method: 'NONE' });
    expect(simulator.overlappingCalls()).toEqual([]);
    await Promise.all([createUser({ externalUserId: 'span-2', method: 'NONE' }), createUser({ externalUserId: 'span-2', method: 'NONE' })]);
    const overlapping = simulator.overlappingCalls();
    expect(overlapping.map(([earlier, later]) => [earlier.externalUserId, later.externalUserId])).toEqual([['span-2', 'span-2']]);
    const spans = (await (await fetch(`${baseUrl}/__sim/call-spans`)).json()) as { spans: unknown[]; overlapping: unknown[] };
    expect(spans.spans).toHaveLength(4);
    expect(spans.overlapping).toHaveLength(1);
  });
});
