import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';
import { ImportRepository } from './import.repository';

const ROW_STATES = ['invalid', 'alreadyRegistered', 'conflicts', 'cancelled', 'pending', 'created', 'failed', 'needsAttention'];
const ROW_COUNT_TTL_MS = 10_000;

/** Import metrics in the service's registry: rows by state (all imports), and Capa calls made for import rows. */
@Injectable()
export class ImportMetrics implements OnModuleInit {
  readonly capaCallsForImports: Counter;

  constructor(
    private readonly metrics: AppMetrics,
    private readonly repository: ImportRepository,
  ) {
    this.capaCallsForImports = new Counter({
      name: 'import_capa_calls_total',
      help: 'Capa calls started for import rows by this process (rate() of it: calls per second, held to IMPORT_CAPA_RPS over all replicas)',
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    const repository = this.repository;
    let counted: { at: number; counts: Promise<Record<string, number>> } | undefined;
    const rowsByState = () => {
      if (counted === undefined || Date.now() - counted.at > ROW_COUNT_TTL_MS) {
        counted = { at: Date.now(), counts: repository.countRowsByState() };
        counted.counts.catch(() => (counted = undefined));
      }
      return counted.counts;
    };
    new Gauge({
      name: 'import_rows',
      help: 'Rows of all imports by state (counted at scrape time, at most every 10 s)',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const counts = await rowsByState();
        for (const state of ROW_STATES) this.set({ state }, counts[state] ?? 0);
      },
    });
  }
}
