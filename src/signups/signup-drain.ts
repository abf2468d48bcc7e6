import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { waitAtMost } from '../common/deadline';
import { AppConfig } from '../config/app-config';
import { ShutdownState } from '../health/shutdown-state';
import { SignupWorker } from './signup-worker';
import { SignupsService } from './signups.service';

/**
 * The shutdown order that keeps a rolling deploy from repeating a call another replica still has in flight:
 * stop picking rows, let the HTTP server drain (in-flight requests finish their drives), let the worker's drives
 * finish, all within SHUTDOWN_GRACE_MS, and only then release the leases of the drives that did not finish.
 * Runs before the database pool and the Capa client close (onApplicationShutdown).
 */
@Injectable()
export class SignupDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger(SignupDrain.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly worker: SignupWorker,
    private readonly signups: SignupsService,
    private readonly config: AppConfig,
    private readonly shutdown: ShutdownState,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    const deadline = Date.now() + this.shutdown.graceLeftMs(this.config.shutdownGraceMs);
    await waitAtMost(this.worker.stopped(), deadline - Date.now());
    // Stops accepting and waits for in-flight requests; Nest's own close of the adapter later finds it closed.
    const drained = await waitAtMost(this.adapterHost.httpAdapter.close().then(() => true), deadline - Date.now());
    if (drained === undefined) {
      // Past the grace period the process is going away anyway: cut the requests still open instead of hanging on them.
      this.logger.warn('In-flight requests did not finish within SHUTDOWN_GRACE_MS; their connections are closed');
      this.adapterHost.httpAdapter.getHttpServer().closeAllConnections();
    }
    const { finished, cutOff, stillCalling } = await this.signups.drainDrives(deadline - Date.now());
    this.logger.log(
      `Shutdown: requests ${drained ? 'drained' : 'cut off'}, ${finished} more drive(s) finished, ` +
        `${cutOff} drive(s) cut off (call aborted and ended, then lease released), ${stillCalling} still calling (lease left to expire)`,
    );
  }
}
