import { importPace } from './import-pace';

describe('importPace', () => {
  it.each([
    [1, 1],
    [10, 2],
    [50, 10],
    [1000, 200],
  ])('%i calls/s: a burst of %d', (rate, burst) => {
    const pace = importPace(rate);
    expect(pace.burst).toBe(burst);
    // The calls due between two polls (jittered up to 1.5 x pollMs) fit in the burst, or the rate could not be reached.
    expect(pace.burst).toBeGreaterThanOrEqual((rate * 1.5 * pace.pollMs) / 1000);
    expect(pace.maxInFlight).toBeGreaterThanOrEqual(rate);
  });
});
