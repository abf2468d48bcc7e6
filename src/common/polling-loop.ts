import type { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { tracing } from '../tracing/tracing';

/** What one pass of a background loop asks for next: the pause before the next pass (0: go again at once). */
export type NextPass = number;

export interface PollingLoop {
  /** Stops scheduling passes, and cuts the pause being waited out short. */
  signal: AbortSignal;
  /** One pass. Answers the pause before the next one; replicas spread out because every pause is jittered x0.5-1.5. */
  pass: () => Promise<NextPass>;
  /** The pause after a pass that threw (logged with `failure`). */
  pauseAfterErrorMs: number;
  logger: Logger;
  failure: string;
  /** Fields logged with a failed pass (which endpoint, ...). */
  context?: Record<string, unknown>;
}

/**
 * The one loop behind every background worker (signups, imports, event deliveries, retention): a pass, then a
 * jittered pause it chose, until shutdown aborts the signal. A failed pass is logged and never ends the loop.
 */
export async function runPollingLoop(loop: PollingLoop): Promise<void> {
  const { signal } = loop;
  while (!signal.aborted) {
    let pauseMs: number;
    try {
      // Untraced: a pass that finds no work exports nothing; the work it claims runs in drive spans of its own.
      pauseMs = await tracing.untraced(() => loop.pass());
    } catch (error) {
      loop.logger.error({ err: error, ...loop.context }, loop.failure);
      pauseMs = loop.pauseAfterErrorMs;
    }
    if (pauseMs > 0) await sleep(jittered(pauseMs), undefined, { signal }).catch(() => undefined);
  }
}

/** `ms` times a random factor in [0.5, 1.5). */
export function jittered(ms: number, random = Math.random): number {
  return ms * (0.5 + random());
}

/**
 * A worker whose loop starts once the app has booted (when `enabled`) and takes no new work from the first step of
 * shutdown (onModuleDestroy); what the work it started needs to finish is the subclass's own shutdown hook.
 */
export abstract class PollingWorker {
  protected readonly stopping = new AbortController();
  protected loop: Promise<void> | undefined;

  protected abstract enabled(): boolean;
  protected abstract run(): Promise<void>;

  onApplicationBootstrap(): void {
    if (this.enabled()) this.loop = this.run();
  }

  onModuleDestroy(): void {
    this.stopping.abort();
  }
}
