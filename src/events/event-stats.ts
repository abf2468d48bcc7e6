import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EventOperationsRepository } from './event-operations.repository';
import type { EventStatsView } from './event.types';

const CACHE_TTL_MS = 5000;

/** Event delivery numbers for operators and /metrics; scrapes share one count for a few seconds. */
@Injectable()
export class EventStats {
  private cached: { at: number; view: Promise<EventStatsView> } | undefined;

  constructor(
    private readonly operations: EventOperationsRepository,
    private readonly config: AppConfig,
  ) {}

  async current(now = new Date()): Promise<EventStatsView> {
    const endpoints = await this.operations.summarise(this.config.eventWebhookUrls);
    const oldest = endpoints.map((endpoint) => endpoint.oldestUndeliveredAt).filter((at): at is string => at !== null).sort()[0] ?? null;
    return {
      endpoints,
      backlog: endpoints.reduce((sum, endpoint) => sum + endpoint.backlog, 0),
      failed: endpoints.reduce((sum, endpoint) => sum + endpoint.failed, 0),
      oldestUndeliveredAt: oldest,
      lagSeconds: oldest === null ? 0 : Math.max(0, (now.getTime() - Date.parse(oldest)) / 1000),
    };
  }

  /** current(), shared by scrapes within a few seconds. */
  recent(): Promise<EventStatsView> {
    if (this.cached === undefined || Date.now() - this.cached.at > CACHE_TTL_MS) {
      const cached = { at: Date.now(), view: this.current() };
      cached.view.catch(() => (this.cached = undefined));
      this.cached = cached;
    }
    return this.cached.view;
  }
}
