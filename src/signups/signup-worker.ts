import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitAtMost } from '../common/deadline';
import { INSTANCE_ID } from '../common/instance-id';
import { AppConfig } from '../config/app-config';
import { SignupRepository } from '../persistence/signup.repository';
import { SignupsService } from './signups.service';

/** How much longer than one Capa attempt a worker's lease lasts, so it never runs out under a call in flight. */
const LEASE_MARGIN_MS = 5000;

/**
 * Drives due PENDING rows to a final state, in every replica. Rows are picked with SKIP LOCKED and leased in one
 * statement, so replicas share the backlog without ever calling Capa twice at once for the same row.
 */
@Injectable()
export class SignupWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SignupWorker.name);
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly repository: SignupRepository,
    private readonly signups: SignupsService,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.workerIntervalMs > 0) this.loop = this.run();
  }

  /** Stops picking rows, lets the drives in flight finish (bounded), then lets go of every lease this process holds. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await waitAtMost(Promise.allSettled([...this.inFlight]), this.config.shutdownGraceMs);
    const released = await this.repository.releaseLeases(INSTANCE_ID, new Date());
    if (released > 0) this.logger.log(`Released ${released} lease(s) for other replicas`);
  }

  /** One pass: claims up to a batch of due rows and drives them concurrently. Answers how many it claimed. */
  async runOnce(): Promise<number> {
    const leaseMs = this.config.capaTimeoutMs + LEASE_MARGIN_MS;
    const rows = await this.repository.claimDue(INSTANCE_ID, leaseMs, this.config.workerBatchSize, new Date());
    const drives = rows.map((row) => {
      const drive = this.signups.drive(row, Date.now() + this.config.capaTimeoutMs, 'worker');
      this.inFlight.add(drive);
      return drive.finally(() => this.inFlight.delete(drive));
    });
    const results = await Promise.allSettled(drives);
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'Background drive failed; the lease will expire and it is retried');
    }
    return rows.length;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    while (!signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (error) {
        this.logger.error({ err: error }, 'Worker pass failed');
      }
      // A full batch means more may be due: go again at once. Otherwise wait, jittered so replicas spread out.
      if (claimed < this.config.workerBatchSize) {
        const pause = this.config.workerIntervalMs * (0.5 + Math.random());
        await sleep(pause, undefined, { signal }).catch(() => undefined);
      }
    }
  }
}
