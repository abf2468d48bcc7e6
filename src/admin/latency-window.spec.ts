import { LatencyWindow } from './latency-window';

describe('LatencyWindow', () => {
  it('answers null before any sample', () => {
    expect(new LatencyWindow(10).percentile(50)).toBeNull();
  });

  it('computes nearest-rank percentiles', () => {
    const window = new LatencyWindow(1000);
    for (let ms = 1; ms <= 100; ms++) window.add(ms);
    expect(window.percentile(50)).toBe(50);
    expect(window.percentile(99)).toBe(99);
    expect(window.percentile(100)).toBe(100);
  });

  it('one sample is every percentile', () => {
    const window = new LatencyWindow(10);
    window.add(7);
    expect(window.percentile(50)).toBe(7);
    expect(window.percentile(99)).toBe(7);
  });

  it('forgets the oldest samples beyond its capacity', () => {
    const window = new LatencyWindow(3);
    for (const ms of [1000, 1000, 1000, 5, 6, 7]) window.add(ms);
    expect(window.percentile(100)).toBe(7);
    expect(window.percentile(50)).toBe(6);
  });
});
