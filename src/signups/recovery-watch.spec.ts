import { RecoveryThrottle, RecoveryWatch, recoveryPace } from './recovery-watch';

describe('RecoveryWatch', () => {
  it('signals the first success after three failures in a row, once', () => {
    const watch = new RecoveryWatch();
    expect(watch.callFinished(false)).toBe(false);
    expect(watch.callFinished(true)).toBe(false);
    expect(watch.callFinished(true)).toBe(false);
    expect(watch.callFinished(true)).toBe(false);
    expect(watch.callFinished(false)).toBe(true);
    expect(watch.callFinished(false)).toBe(false);
  });

  it('a flaky Capa (fewer failures in a row) is no outage: no signal, no probes', () => {
    const watch = new RecoveryWatch();
    for (let round = 0; round < 5; round++) {
      expect(watch.callFinished(true)).toBe(false);
      expect(watch.callFinished(true)).toBe(false);
      expect(watch.probeDue()).toBe(false);
      expect(watch.callFinished(false)).toBe(false);
    }
  });

  it('signals the circuit closing after it opened, and not again for the success that closed it', () => {
    const watch = new RecoveryWatch();
    expect(watch.circuitChanged('open')).toBe(false);
    expect(watch.circuitChanged('half-open')).toBe(false);
    expect(watch.circuitChanged('closed')).toBe(true);
    expect(watch.callFinished(false)).toBe(false);
  });

  it('probes only while failing, at most once per interval', () => {
    let now = 0;
    const watch = new RecoveryWatch(2000, () => now);
    expect(watch.probeDue()).toBe(false);
    for (let i = 0; i < 3; i++) watch.callFinished(true);
    expect(watch.probeDue()).toBe(true);
    now = 1999;
    expect(watch.probeDue()).toBe(false);
    now = 2000;
    expect(watch.probeDue()).toBe(true);
    watch.callFinished(false);
    now = 10_000;
    expect(watch.probeDue()).toBe(false);
  });
});

describe('recoveryPace', () => {
  it.each([
    // retry budget floor/s, import rps, backoff cap ms -> live rate, live limit, import rate, import limit
    [10, 10, 300_000, 5, 1500, 10, 3000],
    [1, 10, 300_000, 1, 300, 10, 3000],
    [100, 500, 300_000, 50, 10_000, 500, 10_000],
    [10, 20, 1000, 5, 5, 20, 20],
  ])('budget floor %d/s, imports %d/s, cap %d ms: live %d/s up to %d rows, imports %d/s up to %d rows', (floor, rps, cap, liveRate, liveLimit, importRate, importLimit) => {
    expect(recoveryPace({ retryBudgetMinPerSecond: floor, importCapaRps: rps, backoffCapMs: cap })).toEqual({
      liveRatePerSecond: liveRate,
      liveLimit,
      importRatePerSecond: importRate,
      importLimit,
    });
  });

  it('drains live signups at most at half of one replica\'s retry budget floor', () => {
    for (const floor of [2, 4, 10, 25, 60]) expect(recoveryPace({ retryBudgetMinPerSecond: floor, importCapaRps: 10, backoffCapMs: 300_000 }).liveRatePerSecond).toBeLessThanOrEqual(floor / 2);
  });
});

describe('RecoveryThrottle', () => {
  it('runs the first recovery at once, defers one within the interval to its end, and folds signals while one is pending', () => {
    let now = 10_000;
    const throttle = new RecoveryThrottle(2000, () => now);
    expect(throttle.signalled()).toBe(0);
    throttle.running();
    now = 10_500;
    expect(throttle.signalled()).toBe(1500);
    now = 11_000;
    expect(throttle.signalled()).toBeNull();
    expect(throttle.signalled()).toBeNull();
    now = 12_000;
    throttle.running();
    now = 20_000;
    expect(throttle.signalled()).toBe(0);
  });

  it('a flaky Capa signalling every 100 ms for 10 s: the statement runs every 2 s, and the last signal is not lost', () => {
    let now = 0;
    const throttle = new RecoveryThrottle(2000, () => now);
    const runs: number[] = [];
    let deferredUntil: number | undefined;
    for (now = 0; now <= 10_000; now += 100) {
      if (deferredUntil !== undefined && now >= deferredUntil) {
        deferredUntil = undefined;
        throttle.running();
        runs.push(now);
      }
      const wait = throttle.signalled();
      if (wait === 0) {
        throttle.running();
        runs.push(now);
      } else if (wait !== null) deferredUntil = now + wait;
    }
    expect(runs).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
    // The signal at 10 000 ms (after the run then) is pending, to run at 12 000 ms.
    expect(deferredUntil).toBe(12_000);
  });
});
