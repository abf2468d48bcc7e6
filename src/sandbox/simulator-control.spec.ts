import { baseUrl, createUser, simulator, startSimulator, userIdOf } from './simulator.fixture';

beforeEach(() => startSimulator());
afterEach(() => simulator.stop());

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
