import { RollingCounts } from './rolling-counts';

describe('RollingCounts', () => {
  let now = 0;
  const clock = () => now;
  const counts = () => new RollingCounts(['a', 'b'], 10_000, 10, clock);

  beforeEach(() => (now = 1_000_000));

  it('counts each key within the window', () => {
    const window = counts();
    window.add('a');
    window.add('a');
    window.add('b', 3);
    expect(window.totals()).toEqual({ a: 2, b: 3 });
  });

  it.each([
    ['just added', 0, 1],
    ['9 s ago', 9_000, 1],
    ['just under 10 s ago', 9_999, 1],
    ['10 s ago: left the window', 10_000, 0],
    ['an hour ago', 3_600_000, 0],
  ])('an event %s counts %i', (_name, ageMs, expected) => {
    const window = counts();
    window.add('a');
    now += ageMs;
    expect(window.totals().a).toBe(expected);
  });

  it('forgets old buckets after a quiet spell, however long (not only one per new event)', () => {
    const window = counts();
    for (let second = 0; second < 10; second++) {
      window.add('a', 10);
      now += 1000;
    }
    now += 60_000;
    window.add('b');
    expect(window.totals()).toEqual({ a: 0, b: 1 });
  });

  it('slides: each second drops the oldest bucket', () => {
    const window = counts();
    for (let second = 0; second < 10; second++) {
      window.add('a');
      now += 1000;
    }
    expect(window.totals().a).toBe(9);
    now += 5000;
    expect(window.totals().a).toBe(4);
  });

  it('a negative amount takes an event back', () => {
    const window = counts();
    window.add('a');
    window.add('a', -1);
    expect(window.totals().a).toBe(0);
  });
});
