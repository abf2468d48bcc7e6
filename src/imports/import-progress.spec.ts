import { importView } from './import-progress';
import type { ImportRecord } from './import.types';

const counts = { rows: 100, invalid: 0, alreadyRegistered: 0, conflicts: 0, pending: 60, created: 40, failed: 0, needsAttention: 0, cancelled: 0 };
const start = new Date('2026-11-28T10:00:00Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
const record = (over: Partial<ImportRecord>): ImportRecord => ({
  id: 'i',
  status: 'RUNNING',
  createdAt: start,
  finishedAt: null,
  counts,
  settledRecently: 0,
  now: at(60),
  ...over,
});

describe('importView', () => {
  it.each([
    // settled in the window, seconds since start, pending -> rate, eta
    [300, 60, 60, 10, 6],
    [40, 4, 60, 10, 6],
    [0, 0.2, 60, 0, 12],
    [20, 60, 0, 0.67, 0],
  ])('%i settled, %is in, %i pending: %d/s, eta %d s', (settledRecently, seconds, pending, rate, eta) => {
    const view = importView(record({ settledRecently, now: at(seconds), counts: { ...counts, pending } }), 5);
    expect(view.ratePerSecond).toBe(rate);
    expect(view.etaSeconds).toBe(eta);
  });

  it('has no eta for a cancelled import with nothing moving', () => {
    expect(importView(record({ status: 'CANCELLED', counts: { ...counts, pending: 3 } }), 5).etaSeconds).toBeNull();
  });

  it('shows dates as ISO text', () => {
    expect(importView(record({ finishedAt: at(90) }), 5)).toMatchObject({ createdAt: start.toISOString(), finishedAt: at(90).toISOString() });
  });
});
