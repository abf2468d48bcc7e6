import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { AppMetrics } from '../metrics/app-metrics';

export type RunOutcome = 'succeeded' | 'failed' | 'api_absent' | 'stopped';
export type RetryCallOutcome = 'accepted' | 'refused' | 'error';
export type PollOutcome = 'changed' | 'unchanged' | 'error';

/** The reconciler's metrics, in the app's registry (this process's runs; the totals of all replicas are in the database). */
@Injectable()
export class ReconcileMetrics implements OnModuleInit {
  private readonly runs: Counter<'outcome'>;
  private readonly notifications: Counter<'outcome'>;
  private readonly retryCalls: Counter<'outcome'>;
  private readonly polls: Counter<'outcome'>;

  constructor(metrics: AppMetrics) {
    const registers = [metrics.registry];
    this.runs = new Counter({ name: 'capa_reconcile_runs_total', help: "Reconcile runs of this replica, by outcome (failed: Capa's list or detail call failed)", labelNames: ['outcome'], registers });
    this.notifications = new Counter({
      name: 'capa_reconcile_notifications_total',
      help: "FAILED notifications read back from Capa: applied (taken into the inbox) or duplicate (taken in before)",
      labelNames: ['outcome'],
      registers,
    });
    this.retryCalls = new Counter({ name: 'capa_reconcile_retry_calls_total', help: 'Manual retry calls to Capa, by answer: accepted, refused (409/429), error', labelNames: ['outcome'], registers });
    this.polls = new Counter({ name: 'kyc_polls_total', help: "Details calls of the KYC poll fallback: changed the status, unchanged, or error", labelNames: ['outcome'], registers });
  }

  onModuleInit(): void {
    for (const outcome of ['succeeded', 'failed', 'api_absent', 'stopped']) this.runs.inc({ outcome }, 0);
    for (const outcome of ['applied', 'duplicate']) this.notifications.inc({ outcome }, 0);
    for (const outcome of ['accepted', 'refused', 'error']) this.retryCalls.inc({ outcome }, 0);
    for (const outcome of ['changed', 'unchanged', 'error']) this.polls.inc({ outcome }, 0);
  }

  runFinished(outcome: RunOutcome): void {
    this.runs.inc({ outcome });
  }

  notificationsTaken(outcome: 'applied' | 'duplicate', count = 1): void {
    if (count > 0) this.notifications.inc({ outcome }, count);
  }

  retryCalled(outcome: RetryCallOutcome): void {
    this.retryCalls.inc({ outcome });
  }

  polled(outcome: PollOutcome): void {
    this.polls.inc({ outcome });
  }
}
