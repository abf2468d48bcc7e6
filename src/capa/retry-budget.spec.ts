import { RetryBudget } from './retry-budget';

describe('RetryBudget', () => {
  let now = 0;
  const clock = () => now;
  const budget = (ratio = 0.2, minPerSecond = 0, windowMs = 10_000) => new RetryBudget({ ratio, minPerSecond, windowMs }, clock);
  const firstAttempts = (target: RetryBudget, count: number) => {
    for (let i = 0; i < count; i++) target.recordFirstAttempt();
  };
  const allowedOf = (target: RetryBudget, asks: number) => Array.from({ length: asks }, () => target.tryRetry().allowed).filter(Boolean).length;

  beforeEach(() => (now = 5_000_000));

  it.each([
    // ratio, floor per second, first attempts, retries asked -> allowed
    [0.2, 0, 100, 50, 20],
    [0.2, 0, 4, 5, 0],
    [0.2, 0, 5, 5, 1],
    [0.2, 1, 0, 20, 10],
    [0.2, 1, 100, 50, 30],
    [0, 0, 1000, 5, 0],
    [1, 0, 10, 20, 10],
  ])('ratio %f, floor %f/s, %i first attempts: %i retries asked, %i allowed', (ratio, floor, first, asked, allowed) => {
    const target = budget(ratio, floor);
    firstAttempts(target, first);
    expect(allowedOf(target, asked)).toBe(allowed);
  });

  it('2x the traffic earns 2x the retries, never more than the ratio', () => {
    const target = budget(0.2, 0);
    firstAttempts(target, 200);
    expect(allowedOf(target, 1000)).toBe(40);
  });

  it('retries and first attempts leave the window: the budget refills', () => {
    const target = budget(0.2, 0);
    firstAttempts(target, 10);
    expect(allowedOf(target, 5)).toBe(2);
    now += 10_000;
    expect(target.tryRetry().allowed).toBe(false);
    firstAttempts(target, 10);
    expect(allowedOf(target, 5)).toBe(2);
  });

  it('a refund gives an unsent retry back', () => {
    const target = budget(0.2, 0);
    firstAttempts(target, 5);
    expect(target.tryRetry().allowed).toBe(true);
    expect(target.tryRetry().allowed).toBe(false);
    target.refund();
    expect(target.tryRetry().allowed).toBe(true);
  });

  it('reports the first refusal, then at most once per window, then the recovery', () => {
    const target = budget(0.2, 0);
    firstAttempts(target, 5);
    expect(target.tryRetry()).toEqual({ allowed: true });
    expect(target.tryRetry()).toEqual({ allowed: false, report: 'exhausted' });
    expect(target.tryRetry()).toEqual({ allowed: false });
    now += 5_000;
    expect(target.tryRetry()).toEqual({ allowed: false });
    now += 5_000;
    expect(target.tryRetry()).toEqual({ allowed: false, report: 'still-exhausted' });
    expect(target.tryRetry()).toEqual({ allowed: false });
    firstAttempts(target, 5);
    expect(target.tryRetry()).toEqual({ allowed: true, report: 'recovered' });
    expect(target.tryRetry()).toEqual({ allowed: false, report: 'exhausted' });
  });

  it("states the window's figures", () => {
    const target = budget(0.2, 1, 10_000);
    firstAttempts(target, 50);
    allowedOf(target, 25);
    expect(target.figures()).toEqual({ windowMs: 10_000, firstAttempts: 50, retries: 20, refused: 5, limit: 20 });
  });
});
