import { Injectable, OnModuleDestroy } from '@nestjs/common';

/**
 * Flips first when the app starts closing (SIGTERM), so readiness answers 503 before the server stops accepting:
 * main.ts calls begin() on the signal, then waits SHUTDOWN_DELAY_MS before closing; a plain app.close() flips it too.
 */
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private closing = false;
  /** When the app began to close (after SHUTDOWN_DELAY_MS when a signal closed it): SHUTDOWN_GRACE_MS counts from here. */
  private closingSince: number | undefined;

  get isShuttingDown(): boolean {
    return this.closing;
  }

  begin(): void {
    this.closing = true;
  }

  onModuleDestroy(): void {
    this.begin();
    this.closingSince ??= performance.now();
  }

  /**
   * What is left of the grace period every shutdown hook shares (the signup drain, the event pushes), so that
   * together they end within it rather than each on its own clock.
   */
  graceLeftMs(graceMs: number): number {
    this.closingSince ??= performance.now();
    return Math.max(0, this.closingSince + graceMs - performance.now());
  }
}
