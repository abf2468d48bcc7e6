import { Injectable, OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';
import { SignupRepository } from './signup.repository';
import { SIGNUP_STATUSES } from './signup.types';

const STATUS_COUNT_TTL_MS = 10_000;

/** The signups' gauges, read at scrape time into the service's registry: by status, the oldest PENDING, the backlog. */
@Injectable()
export class SignupMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly repository: SignupRepository,
  ) {}

  onModuleInit(): void {
    const repository = this.repository;
    const registry = this.metrics.registry;
    // Counting by status scans the table (~200 ms at 1M rows): every replica's every scrape shares one count a while.
    let counted: { at: number; counts: Promise<Record<(typeof SIGNUP_STATUSES)[number], number>> } | undefined;
    const countByStatus = () => {
      if (counted === undefined || Date.now() - counted.at > STATUS_COUNT_TTL_MS) {
        counted = { at: Date.now(), counts: repository.countByStatus() };
        counted.counts.catch(() => (counted = undefined));
      }
      return counted.counts;
    };
    new Gauge({
      name: 'signups',
      help: 'Stored signups by status (counted at scrape time, at most every 10 s)',
      labelNames: ['status'] as const,
      registers: [registry],
      async collect() {
        const counts = await countByStatus();
        for (const status of SIGNUP_STATUSES) this.set({ status }, counts[status]);
      },
    });
    // Like the counts: every scrape within 10 s shares one (index-backed) query.
    let aged: { at: number; seconds: Promise<number> } | undefined;
    new Gauge({
      name: 'signup_oldest_pending_age_seconds',
      help: 'Age in seconds (database clock) of the oldest PENDING signup, import rows excepted; 0 when none (read at scrape time, at most every 10 s)',
      registers: [registry],
      async collect() {
        if (aged === undefined || Date.now() - aged.at > STATUS_COUNT_TTL_MS) {
          aged = { at: Date.now(), seconds: repository.oldestPendingAgeSeconds() };
          aged.seconds.catch(() => (aged = undefined));
        }
        this.set(await aged.seconds);
      },
    });
    new Gauge({
      name: 'signup_worker_backlog',
      help: 'PENDING signups due for a background attempt now (read at scrape time)',
      registers: [registry],
      async collect() {
        this.set(await repository.countDue());
      },
    });
  }
}
