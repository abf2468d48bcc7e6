import { BACKGROUND_BACKOFF, IN_REQUEST_BACKOFF, backoffDelay } from './retry-schedule';

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
