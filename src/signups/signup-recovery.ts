import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CapaObserver } from '../capa/capa-observer';
import { AppConfig } from '../config/app-config';
import { SignupRepository } from './signup.repository';
import { RECOVERY_PROBE_MS, RecoveryPace, RecoveryThrottle, RecoveryWatch, recoveryPace } from './recovery-watch';

/**
 * Recovery is prompt where backoff meets an outage: background retries back off up to minutes, so when this replica
 * sees Capa answer again after failures (or its circuit close), it makes the waiting signups due at once, spread at a
 * pace (recoveryPace), in one statement, at most once per RECOVERY_MIN_INTERVAL_MS (RecoveryThrottle: a flaky Capa
 * signals often); every replica's workers then claim them as they come due. While Capa fails,
 * one waiting signup is made due every RECOVERY_PROBE_MS, so the recovery is seen even when nobody else calls Capa.
 */
@Injectable()
export class SignupRecovery implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(SignupRecovery.name);
  private readonly watch = new RecoveryWatch();
  private readonly throttle = new RecoveryThrottle();
  private deferred: NodeJS.Timeout | undefined;
  private readonly pace: RecoveryPace;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly repository: SignupRepository,
    private readonly config: AppConfig,
    observer: CapaObserver,
  ) {
    this.pace = recoveryPace({
      retryBudgetMinPerSecond: config.retryBudgetMinPerSecond,
      importCapaRps: config.importCapaRps,
      backoffCapMs: config.backgroundBackoff.capMs,
    });
    observer.subscribe({
      callFinished: (attempt) => this.onSignal(this.watch.callFinished(attempt.outcome === 'transient' || attempt.outcome === 'misconfigured')),
      circuitChanged: (status) => this.onSignal(this.watch.circuitChanged(status)),
    });
  }

  onApplicationBootstrap(): void {
    // Without background workers nobody would claim the rows moved (tests that drive rows by hand).
    if (this.config.workerIntervalMs <= 0) {
      this.stopped = true;
      return;
    }
    this.timer = setInterval(() => this.probe(), RECOVERY_PROBE_MS / 4);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.deferred);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.onModuleDestroy();
    await this.running.catch(() => undefined);
  }

  private onSignal(recovered: boolean): void {
    if (!recovered || this.stopped) return;
    const wait = this.throttle.signalled();
    if (wait === null) return;
    if (wait === 0) return this.bringForward();
    this.deferred = setTimeout(() => this.bringForward(), wait);
    this.deferred.unref();
  }

  private bringForward(): void {
    this.throttle.running();
    this.deferred = undefined;
    if (this.stopped) return;
    this.run(async () => {
      const moved = await this.repository.bringForwardWaiting(this.pace);
      if (moved > 0) this.logger.log({ moved, ...this.pace }, `Capa answers again: ${moved} waiting signup(s) made due, spread at ${this.pace.liveRatePerSecond}/s`);
    });
  }

  private probe(): void {
    if (this.stopped || !this.watch.probeDue()) return;
    this.run(() => this.repository.makeEarliestDue(RECOVERY_PROBE_MS));
  }

  private run(step: () => Promise<unknown>): void {
    const next = this.running.then(step).catch((error: unknown) => this.logger.warn({ err: error }, 'Recovery step failed; the rows keep their schedule'));
    this.running = next;
  }
}
