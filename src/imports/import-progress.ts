import type { ImportRecord, ImportView } from './import.types';

/** How far back the pace of an import is measured. */
export const RATE_WINDOW_SECONDS = 30;

/**
 * The pace of an import: rows settled over the last window (or since the import began, if that is shorter), and the
 * time the PENDING rows still need at that pace. Before any row settles, the configured rate stands in for the pace.
 */
export function importView(record: ImportRecord, configuredRps: number): ImportView {
  const elapsedSeconds = Math.max(0, (record.now.getTime() - record.createdAt.getTime()) / 1000);
  const windowSeconds = Math.max(1, Math.min(RATE_WINDOW_SECONDS, elapsedSeconds));
  const ratePerSecond = round(record.settledRecently / windowSeconds);
  const pending = record.counts.pending;
  let etaSeconds: number | null;
  if (pending === 0) etaSeconds = 0;
  else if (record.status === 'CANCELLED' && ratePerSecond === 0) etaSeconds = null;
  else etaSeconds = Math.ceil(pending / (ratePerSecond > 0 ? ratePerSecond : configuredRps));
  return {
    id: record.id,
    status: record.status,
    createdAt: record.createdAt.toISOString(),
    finishedAt: record.finishedAt?.toISOString() ?? null,
    counts: record.counts,
    ratePerSecond,
    etaSeconds,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
