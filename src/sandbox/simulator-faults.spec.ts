import { NETWORK_ERROR, UUID_V4, createUser, simulator, startSimulator, userIdOf, waitFor } from './simulator.fixture';

beforeEach(() => startSimulator());
afterEach(() => simulator.stop());

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
