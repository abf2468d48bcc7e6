import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { INSTANCE_ID } from '../common/instance-id';
import { PollingWorker, runPollingLoop } from '../common/polling-loop';
import { AppConfig } from '../config/app-config';
import { ImportRepository } from './import.repository';
import { LEASE_MARGIN_MS } from '../signups/drive';
import { tracing } from '../tracing/tracing';
import { SignupsService } from '../signups/signups.service';
import type { SignupRecord } from '../signups/signup.types';
import { ImportMetrics } from './import-metrics';
import { importPace } from './import-pace';

/** How often a replica looks for imports left STAGING by an upload that died. */
export const STAGING_SWEEP_MS = 30_000;

/**
 * Drives import rows, in every replica, at IMPORT_CAPA_RPS Capa calls per second for all replicas together: each pass
 * takes tokens from the bucket in PostgreSQL and claims at most that many rows. A token pays for one Capa call: an
 * import drive makes exactly one (SignupsService: maxAttempts 1), and a transient outcome puts the row back PENDING with
 * the usual backoff, to be claimed again for a new token, so retries count in the rate. Live signups and their retries are the
 * SignupWorker's, whose claim never takes import rows, so they never wait behind an import.
 */
@Injectable()
export class ImportWorker extends PollingWorker implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(ImportWorker.name);
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly pace;

  constructor(
    private readonly imports: ImportRepository,
    private readonly signups: SignupsService,
    private readonly metrics: ImportMetrics,
    private readonly config: AppConfig,
  ) {
    // Shutdown, first step (onModuleDestroy): no new rows are picked. Drives already started are SignupsService's
    // (drainDrives).
    super();
    this.pace = importPace(config.importCapaRps);
  }

  protected enabled(): boolean {
    return this.config.workerIntervalMs > 0;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /**
   * One pass: as many due import rows as the shared bucket allows now, driven in the background. Answers how many
   * it claimed, or null when no import row was due.
   */
  async runOnce(): Promise<number | null> {
    const room = this.pace.maxInFlight - this.inFlight.size;
    if (room <= 0) return 0;
    // Without an import running, the shared bucket (one row every replica locks) is left alone.
    if (!(await this.imports.hasDue())) return null;
    const granted = await this.imports.takeTokens(room, this.config.importCapaRps, this.pace.burst);
    if (granted === 0) return 0;
    // Each row's lease owner is unique to its drive (`prefix:<id>`), as the SignupWorker's.
    const ownerPrefix = `${INSTANCE_ID}:i:${randomUUID().slice(0, 8)}`;
    // Tracked by SignupsService until each row is a drive, so the drain waits for them; none once the drain has begun.
    const rows = await this.signups.claim(
      () => this.imports.claimDue(ownerPrefix, this.config.capaTimeoutMs + LEASE_MARGIN_MS, granted),
      (claimed) => claimed.forEach((row) => this.startDrive(row)),
    );
    await this.imports.returnTokens(granted - rows.length, this.pace.burst);
    return rows.length === 0 ? null : rows.length;
  }

  private startDrive(row: SignupRecord): void {
    this.metrics.capaCallsForImports.inc();
    const drive = tracing
      .inDrive({ name: 'import row', causedBy: row.traceParent, attributes: { 'signup.external_user_id': row.externalUserId } }, () =>
        this.signups.drive(row, Date.now() + this.config.capaTimeoutMs, 'worker'),
      )
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'Import drive failed; the lease will expire and it is retried');
      });
    this.inFlight.add(drive);
    void drive.finally(() => this.inFlight.delete(drive));
  }

  /**
   * Cancels the imports an upload left STAGING when it died mid-move (ImportRepository.sweepAbandonedStaging): at boot
   * and then every STAGING_SWEEP_MS, so rows such an upload moved are withdrawn rather than left hidden for good.
   */
  async sweepAbandonedStaging(): Promise<void> {
    const swept = await this.imports.sweepAbandonedStaging();
    if (swept.length > 0) this.logger.warn({ imports: swept }, 'Imports left STAGING by an upload that died were cancelled');
  }

  protected run(): Promise<void> {
    let nextSweep = 0;
    return runPollingLoop({
      signal: this.stopping.signal,
      pass: async () => {
        if (Date.now() >= nextSweep) {
          nextSweep = Date.now() + STAGING_SWEEP_MS;
          await this.sweepAbandonedStaging();
        }
        // Nothing due: the worker's usual pause. Otherwise come back soon for the tokens that refill meanwhile.
        return (await this.runOnce()) === null ? this.config.workerIntervalMs : this.pace.pollMs;
      },
      pauseAfterErrorMs: this.pace.pollMs,
      logger: this.logger,
      failure: 'Import worker pass failed',
    });
  }
}
