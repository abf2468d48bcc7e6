import { importPace } from './import-pace';

describe('importPace', () => {
  it.each([
    // rate, burst, mean poll ms
    [1, 1, 100],
    [10, 1, 50],
    [20, 2, 50],
    [50, 5, 50],
    [1000, 100, 50],
  ])('%i calls/s: a burst of %d, a poll every %d ms', (rate, burst, pollMs) => {
    const pace = importPace(rate);
    expect(pace.burst).toBe(burst);
    expect(pace.pollMs).toBe(pollMs);
    expect(pace.maxInFlight).toBeGreaterThanOrEqual(rate);
  });

  // The longest pause between two polls of one replica (1.5 x pollMs, the jitter's top) refills at most the burst:
  // a longer one would fill the bucket to its cap and lose tokens, so the rate would not be reached.
  it.each([1, 2, 3, 7, 10, 15, 20, 33, 50, 99, 250, 1000, 5000, 10_000])('%d calls/s: the longest pause between polls refills at most the burst', (rate) => {
    const pace = importPace(rate);
    expect((rate * 1.5 * pace.pollMs) / 1000).toBeLessThanOrEqual(pace.burst);
  });
});
