import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';
import { displayUrl } from './event-settings';
import { EventStats } from './event-stats';

/** Event delivery gauges in the service's registry, read at scrape time. Endpoint labels carry no credentials. */
@Injectable()
export class EventMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly stats: EventStats,
  ) {}

  onModuleInit(): void {
    const stats = this.stats;
    new Gauge({
      name: 'event_delivery_backlog',
      help: 'Event deliveries owed per webhook endpoint (pending plus not yet scheduled; read at scrape time, at most every 5 s)',
      labelNames: ['endpoint'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const endpoint of (await stats.recent()).endpoints) this.set({ endpoint: displayUrl(endpoint.endpoint) }, endpoint.backlog);
      },
    });
    new Gauge({
      name: 'event_delivery_lag_seconds',
      help: 'Age of the oldest event not yet delivered to every webhook endpoint (0 when none is owed)',
      registers: [this.metrics.registry],
      async collect() {
        this.set((await stats.recent()).lagSeconds);
      },
    });
    new Gauge({
      name: 'event_deliveries_failed',
      help: 'Event deliveries given up after the retry window, per endpoint (redeliver them from the admin API)',
      labelNames: ['endpoint'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const endpoint of (await stats.recent()).endpoints) this.set({ endpoint: displayUrl(endpoint.endpoint) }, endpoint.failed);
      },
    });
  }
}
