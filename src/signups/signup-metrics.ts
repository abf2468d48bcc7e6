import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';
import { scrapeGauge, scrapeGaugeByLabel, sharedReading } from '../metrics/scrape-gauge';
import { SignupRepository } from './signup.repository';
import { SignupsService } from './signups.service';
import { SIGNUP_STATUSES } from './signup.types';

/**
 * The signups' gauges, read at scrape time into the service's registry: by status, the oldest PENDING, the backlog,
 * and this replica's mapping cache (its size is most of what memory grows by under reads: MAPPING_CACHE_MAX_ENTRIES).
 */
@Injectable()
export class SignupMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly repository: SignupRepository,
    private readonly signups: SignupsService,
  ) {}

  onModuleInit(): void {
    const { repository } = this;
    const { registry } = this.metrics;
    // Counting by status scans the table (~200 ms at 1M rows): every scrape shares one count a while.
    scrapeGaugeByLabel({
      registry,
      name: 'signups',
      help: 'Stored signups by status (counted at scrape time, at most every 10 s)',
      label: 'status',
      values: SIGNUP_STATUSES,
      counts: sharedReading(() => repository.countByStatus()),
    });
    // Like the counts: every scrape within 10 s shares one (index-backed) query.
    scrapeGauge(
      registry,
      'signup_oldest_pending_age_seconds',
      'Age in seconds (database clock) of the oldest PENDING signup, import rows excepted; 0 when none (read at scrape time, at most every 10 s)',
      sharedReading(() => repository.oldestPendingAgeSeconds()),
    );
    scrapeGauge(registry, 'signup_worker_backlog', 'PENDING signups due for a background attempt now (read at scrape time)', () => repository.countDue());
    const { cache } = this.signups;
    scrapeGauge(registry, 'mapping_cache_entries', 'CREATED mappings held in memory by this replica (at most MAPPING_CACHE_MAX_ENTRIES)', async () => cache.size);
    // Counted by the cache itself (two integer increments on the read path), copied into the counter at scrape time.
    new Counter({
      name: 'mapping_cache_lookups_total',
      help: 'Reads and replays by whether this replica answered them from memory (hit) or asked the database (miss)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        const { hits, misses } = cache.counts;
        this.reset();
        this.inc({ result: 'hit' }, hits);
        this.inc({ result: 'miss' }, misses);
      },
    });
  }
}
