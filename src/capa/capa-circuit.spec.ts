import { Logger } from '@nestjs/common';
import { CapaCircuit, CircuitStatus, NOT_CALLED } from './capa-circuit';

type Result = 'ok' | 'fail';

describe('CapaCircuit (failure rate over a rolling window, with a minimum of calls)', () => {
  let now = 1_000_000;
  let warn: jest.SpyInstance;
  let changes: CircuitStatus[];

  beforeEach(() => {
    now = 1_000_000;
    changes = [];
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  const circuit = (settings: Partial<{ failureRate: number; windowMs: number; minCalls: number; halfOpenMs: number }> = {}) =>
    new CapaCircuit<Result>(
      { failureRate: 0.5, windowMs: 10_000, minCalls: 20, halfOpenMs: 5000, ...settings },
      (result) => result === 'fail',
      (status) => changes.push(status),
      () => now,
    );
  const run = async (target: CapaCircuit<Result>, results: Result[], spacingMs = 0) => {
    for (const result of results) {
      await target.execute(async () => result);
      now += spacingMs;
    }
  };
  const times = (count: number, result: Result): Result[] => Array(count).fill(result);

  it.each([
    // minCalls, windowMs, failures in a row -> open?
    [20, 10_000, 19, false],
    [20, 10_000, 20, true],
    [20, 1234, 19, false],
    [20, 1234, 20, true],
    [5, 3000, 4, false],
    [5, 3000, 5, true],
    [1, 1000, 1, true],
  ])('minCalls %i over %i ms: %i failures -> open %s', async (minCalls, windowMs, failures, opens) => {
    const target = circuit({ minCalls, windowMs });
    await run(target, times(failures, 'fail'));
    expect(target.status()).toBe(opens ? 'open' : 'closed');
  });

  it('stays closed at 30% failures (the luck of five in a row no longer matters), opens past the rate', async () => {
    const degraded = circuit();
    await run(degraded, [...times(6, 'fail'), ...times(14, 'ok'), ...Array.from({ length: 80 }, (_, i): Result => (i % 10 < 3 ? 'fail' : 'ok'))], 20);
    expect(degraded.status()).toBe('closed');
    expect(changes).toEqual([]);

    const failing = circuit();
    await run(failing, Array.from({ length: 40 }, (_, i): Result => (i % 10 < 6 ? 'fail' : 'ok')), 20);
    expect(failing.status()).toBe('open');
  });

  it('forgets calls older than the window, also after a quiet spell', async () => {
    const target = circuit();
    await run(target, times(15, 'fail'));
    now += 11_000;
    await run(target, times(10, 'fail'));
    expect(target.status()).toBe('closed');
    expect(target.figures()).toEqual({ windowMs: 10_000, calls: 10, failures: 10, failureRate: 1 });
    await run(target, times(10, 'fail'));
    expect(target.status()).toBe('open');
  });

  it('a successful probe starts a fresh window: the failures that opened the circuit do not reopen it', async () => {
    const target = circuit({ halfOpenMs: 1000 });
    await run(target, times(20, 'fail'));
    now += 1000;
    await run(target, ['ok', 'fail', 'fail']);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
    expect(target.figures()).toMatchObject({ calls: 3, failures: 2 });
  });

  it('a failure rate of exactly the threshold does not open it; more does', async () => {
    const even = circuit();
    await run(even, Array.from({ length: 40 }, (_, i): Result => (i % 2 === 0 ? 'ok' : 'fail')));
    expect(even.status()).toBe('closed');
    await run(even, ['fail']);
    expect(even.status()).toBe('open');
  });

  it('while open, calls are not made; after halfOpenMs one probe decides; each transition is logged once with the figures', async () => {
    const target = circuit({ halfOpenMs: 5000 });
    await run(target, times(20, 'fail'));
    expect(changes).toEqual(['open']);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toEqual({ circuit: 'open', windowMs: 10_000, calls: 20, failures: 20, failureRate: 1 });
    expect(warn.mock.calls[0][1]).toContain('20 of 20 calls failed');

    let called = 0;
    const outcome = await target.execute(async () => {
      called += 1;
      return 'ok';
    });
    expect(outcome).toBe(NOT_CALLED);
    expect(called).toBe(0);
    await run(target, times(50, 'fail'));
    expect(warn).toHaveBeenCalledTimes(1);

    now += 5000;
    expect(await target.execute(async () => 'fail')).toBe('fail');
    expect(changes).toEqual(['open', 'half-open', 'open']);
    now += 5000;
    expect(await target.execute(async () => 'ok')).toBe('ok');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(target.status()).toBe('closed');
    expect(warn).toHaveBeenCalledTimes(5);
  });
});
