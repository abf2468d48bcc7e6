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
    // The longest pause between two polls (1.5 x pollMs) refills at most the burst, or tokens would be lost.
    expect((rate * 1.5 * pace.pollMs) / 1000).toBeLessThanOrEqual(Math.max(pace.burst, (rate * 1.5 * 100) / 1000));
    expect(pace.maxInFlight).toBeGreaterThanOrEqual(rate);
  });
});
