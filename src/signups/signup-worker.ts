import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { INSTANCE_ID } from '../common/instance-id';
import { PollingWorker, runPollingLoop } from '../common/polling-loop';
import { AppConfig } from '../config/app-config';
import { tracing } from '../tracing/tracing';
import { SignupRepository } from './signup.repository';
import { LEASE_MARGIN_MS } from './drive';
import { SignupsService } from './signups.service';

/**
 * Drives due PENDING rows to a final state, in every replica. Rows are picked with SKIP LOCKED and leased in one
 * statement, each to a drive of its own, so replicas share the backlog without ever calling Capa twice at once for
 * the same row.
 */
@Injectable()
export class SignupWorker extends PollingWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SignupWorker.name);
  /** The claim statement in progress, if any: rows it leases become drives that shutdown must know about. */
  private claiming: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly repository: SignupRepository,
    private readonly signups: SignupsService,
    private readonly config: AppConfig,
  ) {
    // Shutdown, first step (onModuleDestroy): no new rows are picked. Drives already started are left to
    // SignupsService.drainDrives.
    super();
  }

  protected enabled(): boolean {
    return this.config.workerIntervalMs > 0;
  }

  /** Resolves once no claim statement is in progress any more (every leased row is a registered drive). */
  async stopped(): Promise<void> {
    this.stopping.abort();
    await this.claiming.catch(() => undefined);
  }

  /** One pass: claims up to a batch of due rows and drives them concurrently. Answers how many it claimed. */
  async runOnce(): Promise<number> {
    const leaseMs = this.config.capaTimeoutMs + LEASE_MARGIN_MS;
    // One prefix per pass; the statement makes each row's owner unique (`prefix:<id>`): one drive per row.
    const ownerPrefix = `${INSTANCE_ID}:w:${randomUUID().slice(0, 8)}`;
    let drives: Array<Promise<unknown>> = [];
    const claim = this.signups.claim(
      () => this.repository.claimDue(ownerPrefix, leaseMs, this.config.workerBatchSize, new Date()),
      (claimed) =>
        (drives = claimed.map((row) =>
          tracing.inDrive({ name: 'signup retry', causedBy: row.traceParent, attributes: { 'signup.external_user_id': row.externalUserId } }, () =>
            this.signups.drive(row, Date.now() + this.config.capaTimeoutMs, 'worker'),
          ),
        )),
    );
    this.claiming = claim;
    const rows = await claim;
    const results = await Promise.allSettled(drives);
    for (const result of results) {
      if (result.status === 'rejected') this.logger.error({ err: result.reason }, 'Background drive failed; the lease will expire and it is retried');
    }
    return rows.length;
  }

  protected run(): Promise<void> {
    const interval = this.config.workerIntervalMs;
    return runPollingLoop({
      signal: this.stopping.signal,
      // A full batch means more may be due: go again at once. Otherwise wait, jittered so replicas spread out.
      pass: async () => ((await this.runOnce()) < this.config.workerBatchSize ? interval : 0),
      pauseAfterErrorMs: interval,
      logger: this.logger,
      failure: 'Worker pass failed',
    });
  }
}
