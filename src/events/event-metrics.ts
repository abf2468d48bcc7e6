import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';
import { scrapeGauge } from '../metrics/scrape-gauge';
import { displayUrl } from '../config/event-webhook-settings';
import { EventStats } from './event-stats';
import type { EndpointSummary } from './event.types';

/** Event delivery gauges in the service's registry, read at scrape time. Endpoint labels carry no credentials. */
@Injectable()
export class EventMetrics implements OnModuleInit {
  private readonly cursorFaults: Counter<'endpoint'>;

  constructor(
    private readonly metrics: AppMetrics,
    private readonly stats: EventStats,
  ) {
    this.cursorFaults = new Counter({
      name: 'event_endpoint_cursor_faults_total',
      help: "Delivery passes that found the endpoint's stored position beyond the newest transaction of the database (another cluster's, e.g. after a restore): nothing is pushed to it until an operator resets it",
      labelNames: ['endpoint'] as const,
      registers: [metrics.registry],
    });
  }

  /** One delivery pass found this endpoint's cursor beyond the newest transaction. */
  countCursorFault(url: string): void {
    this.cursorFaults.inc({ endpoint: displayUrl(url) });
  }

  onModuleInit(): void {
    const { stats } = this;
    const { registry } = this.metrics;
    const perEndpoint = (name: string, help: string, value: (endpoint: EndpointSummary) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['endpoint'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          for (const endpoint of (await stats.recent()).endpoints) this.set({ endpoint: displayUrl(endpoint.endpoint) }, value(endpoint));
        },
      });
    perEndpoint(
      'event_delivery_backlog',
      'Event deliveries owed per webhook endpoint (pending plus not yet scheduled; read at scrape time, at most every 5 s)',
      (endpoint) => endpoint.backlog,
    );
    scrapeGauge(
      registry,
      'event_delivery_lag_seconds',
      'Age of the oldest event not yet delivered to every webhook endpoint (0 when none is owed)',
      async () => (await stats.recent()).lagSeconds,
    );
    perEndpoint(
      'event_deliveries_failed',
      'Event deliveries given up after the retry window, per endpoint (redeliver them from the admin API)',
      (endpoint) => endpoint.failed,
    );
  }
}
