import { BACKGROUND_BACKOFF, backoffDelay } from '../config/backoff';
import { IN_REQUEST_BACKOFF, attemptTimeoutMs } from './retry-schedule';

describe('backoffDelay (capped exponential, full jitter)', () => {
  const top = () => 0.999999;
  const bottom = () => 0;

  it('grows exponentially from the base', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(IN_REQUEST_BACKOFF, attempt, undefined, top))).toEqual([99, 199, 399, 799]);
  });

  it('is capped', () => {
    expect(backoffDelay(IN_REQUEST_BACKOFF, 30, undefined, top)).toBe(1999);
    expect(backoffDelay(BACKGROUND_BACKOFF, 1000, undefined, top)).toBe(299_999);
  });

  it('is fully jittered: anywhere from 0 to the ceiling', () => {
    expect(backoffDelay(BACKGROUND_BACKOFF, 5, undefined, bottom)).toBe(0);
    const samples = Array.from({ length: 2000 }, () => backoffDelay(BACKGROUND_BACKOFF, 5));
    expect(Math.min(...samples)).toBeLessThan(2000);
    expect(Math.max(...samples)).toBeGreaterThan(14_000);
    expect(Math.max(...samples)).toBeLessThan(16_000);
  });

  it('never retries sooner than Retry-After, which is itself capped', () => {
    expect(backoffDelay(IN_REQUEST_BACKOFF, 1, 1500, bottom)).toBe(1500);
    expect(backoffDelay(IN_REQUEST_BACKOFF, 1, 10 * 60_000, bottom)).toBe(30_000);
    expect(backoffDelay(BACKGROUND_BACKOFF, 1, 60 * 60_000, bottom)).toBe(10 * 60_000);
  });

  it('treats attempt 0 or less like the first retry', () => {
    expect(backoffDelay(IN_REQUEST_BACKOFF, 0, undefined, top)).toBe(99);
  });
});

describe('attemptTimeoutMs (per-attempt timeout under a deadline)', () => {
  it.each([
    // timeout, time left, caller waiting -> attempt timeout
    [5000, 10_000, true, 5000],
    [5000, 6000, true, 3000],
    [5000, 5000, true, 2500],
    [500, 1500, true, 500],
    [500, 900, true, 450],
    [500, 120, true, 60],
    [500, 99, true, 99],
    [500, 30, true, 30],
    [500, 0, true, 1],
    [500, -20, true, 1],
    [5000, 5000, false, 5000],
    [5000, 3000, false, 3000],
    [5000, 60_000, false, 5000],
  ])('CAPA_TIMEOUT_MS %i with %i ms left (caller waiting: %s): %i', (timeout, left, waiting, expected) => {
    expect(attemptTimeoutMs(timeout, left, waiting)).toBe(expected);
  });

  it('after a timed-out attempt, another attempt of at least the same length still fits while a caller waits', () => {
    for (const [timeout, deadline] of [[5000, 10_000], [5000, 5000], [500, 1500], [2000, 2500]]) {
      const first = attemptTimeoutMs(timeout, deadline, true);
      expect(deadline - first).toBeGreaterThanOrEqual(first);
    }
  });
});
