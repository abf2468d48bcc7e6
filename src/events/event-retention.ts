import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../config/app-config';
import { EventOperationsRepository } from './event-operations.repository';
import { runPollingLoop } from '../common/polling-loop';

/** Small batches, with a pause between them, so pruning never holds many locks or competes with signups. */
const BATCH = 500;
const BATCH_PAUSE_MS = 100;
const INTERVAL_MS = 10 * 60_000;

/** Deletes delivered events older than EVENT_RETENTION_DAYS, in every replica (SKIP LOCKED shares the work). */
@Injectable()
export class EventRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventRetention.name);
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly operations: EventOperationsRepository,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /** Prunes until nothing is left to prune (or shutdown); answers how many events went. */
  async pruneOnce(): Promise<number> {
    let total = 0;
    while (!this.stopping.signal.aborted) {
      const pruned = await this.operations.pruneDelivered(this.config.eventRetentionDays, this.config.eventWebhookUrls, BATCH);
      total += pruned;
      if (pruned < BATCH) break;
      await sleep(BATCH_PAUSE_MS, undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
    return total;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    // First pass a while after boot, jittered, so replicas starting together do not prune together.
    await sleep(INTERVAL_MS * Math.random() * 0.1, undefined, { signal }).catch(() => undefined);
    await runPollingLoop({
      signal,
      pass: async () => {
        const pruned = await this.pruneOnce();
        if (pruned > 0) this.logger.log(`Pruned ${pruned} delivered event(s) older than ${this.config.eventRetentionDays} day(s)`);
        return INTERVAL_MS;
      },
      pauseAfterErrorMs: INTERVAL_MS,
      logger: this.logger,
      failure: 'Event retention pass failed',
    });
  }
}
