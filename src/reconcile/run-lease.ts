import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReconcileRepository } from './reconcile.repository';

/** How long a run's lease lasts unrenewed: a replica that dies mid-run holds up the next run at most this long. */
export const RUN_LEASE_MS = 120_000;
/** Longest single sleep inside a run: the lease is renewed in between. */
const PAUSE_CHUNK_MS = 20_000;

/**
 * The lease of one reconcile run (one replica at a time, by the database's clock): renewed as the run goes on, so a
 * run that stalls past it stops at its next step instead of running beside the replica that took over.
 */
export class RunLease {
  readonly owner = randomUUID();
  private renewedAt = Number.NEGATIVE_INFINITY;
  private lost = false;

  constructor(
    private readonly repository: ReconcileRepository,
    private readonly signal: AbortSignal,
    private readonly leaseMs = RUN_LEASE_MS,
  ) {}

  /** Takes the lease; false when another run holds it. */
  async take(): Promise<boolean> {
    const taken = await this.repository.takeLease(this.owner, this.leaseMs);
    if (taken) this.renewedAt = performance.now();
    return taken;
  }

  /** Whether the run may take its next step: not stopping, and the lease still its own (renewed once a third has passed). */
  async mayContinue(): Promise<boolean> {
    if (this.signal.aborted || this.lost) return false;
    if (performance.now() - this.renewedAt < this.leaseMs / 3) return true;
    this.lost = !(await this.repository.takeLease(this.owner, this.leaseMs));
    if (!this.lost) this.renewedAt = performance.now();
    return !this.lost;
  }

  /** Sleeps `ms` (cut short by shutdown), renewing the lease along the way; answers whether the run may go on. */
  async pause(ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      if (!(await this.mayContinue())) return false;
      await sleep(Math.min(PAUSE_CHUNK_MS, until - performance.now()), undefined, { signal: this.signal }).catch(() => undefined);
    }
    return this.mayContinue();
  }

  release(): Promise<void> {
    return this.repository.releaseLease(this.owner);
  }
}
