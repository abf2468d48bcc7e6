import { Injectable, OnModuleDestroy } from '@nestjs/common';

/**
 * Flips first when the app starts closing (SIGTERM), so readiness answers 503 before the server stops accepting:
 * main.ts calls begin() on the signal, then waits SHUTDOWN_DELAY_MS before closing; a plain app.close() flips it too.
 */
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private closing = false;

  get isShuttingDown(): boolean {
    return this.closing;
  }

  begin(): void {
    this.closing = true;
  }

  onModuleDestroy(): void {
    this.begin();
  }
}
