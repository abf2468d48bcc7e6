import { Injectable, OnModuleDestroy } from '@nestjs/common';

/** Flips first when the app starts closing (SIGTERM), so readiness answers 503 before the server stops accepting. */
@Injectable()
export class ShutdownState implements OnModuleDestroy {
  private closing = false;

  get isShuttingDown(): boolean {
    return this.closing;
  }

  onModuleDestroy(): void {
    this.closing = true;
  }
}
