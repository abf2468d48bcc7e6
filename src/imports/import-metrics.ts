import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';
import { scrapeGaugeByLabel, sharedReading } from '../metrics/scrape-gauge';
import { ImportRepository } from './import.repository';

const ROW_STATES = ['invalid', 'alreadyRegistered', 'conflicts', 'cancelled', 'pending', 'created', 'failed', 'needsAttention'];

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
    const { repository } = this;
    scrapeGaugeByLabel({
      registry: this.metrics.registry,
      name: 'import_rows',
      help: 'Rows of all imports by state (counted at scrape time, at most every 10 s)',
      label: 'state',
      values: ROW_STATES,
      counts: sharedReading(() => repository.countRowsByState()),
    });
  }
}
