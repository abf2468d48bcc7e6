import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapaGateway } from '../capa/capa.gateway';
import { MAX_NOTIFICATIONS_PAGE, NotificationSummary, listNotificationsCall, notificationDetailCall, retryNotificationCall } from '../capa/notification-calls';
import { CapaWebhooksService } from '../capa-webhooks/capa-webhooks.service';
import { AppConfig } from '../config/app-config';
import { KycPoller } from './kyc-poller';
import { ReconcileMetrics, RunOutcome } from './reconcile-metrics';
import { ReconcileRepository } from './reconcile.repository';
import { FetchedNotification, callFailure, oldestFirst, retryAnswer, retryCandidates } from './reconcile-rules';
import { RunLease } from './run-lease';

/** The first run comes this long after boot (plus up to 1 s of jitter, so replicas booting together rarely collide). */
const BOOT_DELAY_MS = 2_000;
/** How long one list or detail call may keep trying (transient faults are retried within it). */
const CALL_DEADLINE_MS = 30_000;
/** Pages never exceed this many (a runaway `total` cannot keep a run listing forever). */
const MAX_PAGES = 1_000;
/** How long a run may take when reconciliation is not scheduled (CAPA_RECONCILE_INTERVAL_MS 0, a run asked for by hand). */
const UNSCHEDULED_RUN_MS = 60_000;
export const API_ABSENT = "Capa has no webhook notification API (404 on the list); only the KYC poll fallback runs";

/** What one run did (for logs and tests). */
export interface RunReport {
  outcome: RunOutcome;
  lastError: string | null;
  listed: number;
  applied: number;
  duplicate: number;
  retried: number;
  retryRefused: number;
  polled: number;
}

type Listing = { kind: 'listed'; items: NotificationSummary[] } | { kind: 'absent' } | { kind: 'failed'; error: string };

/**
 * Reads back what Capa could not deliver (DESIGN.md, reconciliation): on one replica at a time (a lease row, by the
 * database's clock), once a few seconds after boot and then every CAPA_RECONCILE_INTERVAL_MS, it lists every FAILED notification,
 * takes each one into the inbox at most once (applied exactly as a signed delivery of its payload, oldest first), asks
 * Capa to retry it within Capa's caps so the redelivery is expected and stored as a duplicate, then runs the KYC poll
 * fallback. SIGTERM lets the Capa call in flight finish and its outcome be recorded, then stops.
 */
@Injectable()
export class Reconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Reconciler.name);
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  /** Runs in progress (the scheduled one, or one asked for by hand): shutdown waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private absentWarned = false;

  constructor(
    private readonly repository: ReconcileRepository,
    private readonly gateway: CapaGateway,
    private readonly webhooks: CapaWebhooksService,
    private readonly poller: KycPoller,
    private readonly metrics: ReconcileMetrics,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.reconcileIntervalMs > 0) this.loop = this.schedule();
  }

  /** SIGTERM: a run takes no new step; the Capa call in flight finishes and its outcome is recorded first. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  /** One run, if no other replica is running one (undefined then). */
  async runOnce(): Promise<RunReport | undefined> {
    const lease = new RunLease(this.repository, this.stopping.signal);
    if (!(await lease.take())) return undefined;
    const run = this.run(lease).finally(() => lease.release());
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  private async schedule(): Promise<void> {
    const { signal } = this.stopping;
    await sleep(BOOT_DELAY_MS + Math.random() * 1_000, undefined, { signal }).catch(() => undefined);
    while (!signal.aborted) {
      const startedAt = performance.now();
      try {
        await this.runOnce();
      } catch (error) {
        this.logger.error({ err: error }, 'Reconcile run failed');
      }
      // Runs start an interval apart (a run fills at most that much: retries wait half of it, polls the rest).
      const nextInMs = Math.max(1_000, this.config.reconcileIntervalMs - (performance.now() - startedAt));
      await sleep(nextInMs, undefined, { signal }).catch(() => undefined);
    }
  }

  private async run(lease: RunLease): Promise<RunReport> {
    const startedAt = Date.now();
    // Retries may wait for quota through half of the time to the next run, the poll fallback through the rest.
    const budgetMs = this.config.reconcileIntervalMs > 0 ? this.config.reconcileIntervalMs : UNSCHEDULED_RUN_MS;
    const report: RunReport = { outcome: 'succeeded', lastError: null, listed: 0, applied: 0, duplicate: 0, retried: 0, retryRefused: 0, polled: 0 };
    await this.repository.prune();
    const listing = await this.listFailed(lease);
    if (listing.kind === 'listed') {
      report.listed = listing.items.length;
      const error = await this.takeIn(listing.items, report, lease);
      if (error !== null) Object.assign(report, { outcome: 'failed', lastError: error });
      else await this.retry(listing.items, report, lease, startedAt + budgetMs / 2);
    } else if (listing.kind === 'absent') {
      if (!this.absentWarned) this.logger.warn(API_ABSENT);
      this.absentWarned = true;
      Object.assign(report, { outcome: 'api_absent', lastError: API_ABSENT });
    } else {
      Object.assign(report, { outcome: 'failed', lastError: listing.error });
    }
    if (await lease.mayContinue()) report.polled = await this.poller.poll(lease, startedAt + budgetMs);
    if (!(await lease.mayContinue()) && report.outcome === 'succeeded') report.outcome = 'stopped';
    await this.repository.finishRun(report.lastError);
    this.metrics.runFinished(report.outcome);
    const { lastError: _lastError, ...figures } = report;
    if (report.outcome === 'failed') this.logger.warn({ ...figures, error: report.lastError }, 'Reconcile run ended early');
    else if (report.listed + report.polled > 0) this.logger.log(figures, 'Reconcile run finished');
    return report;
  }

  /** Every FAILED notification, page by page (limit 100) until Capa's `total` (or a short page); ids once. */
  private async listFailed(lease: RunLease): Promise<Listing> {
    const byId = new Map<string, NotificationSummary>();
    for (let page = 0, skip = 0; page < MAX_PAGES && (await lease.mayContinue()); page++) {
      const outcome = await this.gateway.callNotifications(listNotificationsCall('FAILED', skip, MAX_NOTIFICATIONS_PAGE), { deadline: Date.now() + CALL_DEADLINE_MS });
      if (outcome.kind !== 'answered') {
        if (outcome.kind === 'rejected' && outcome.httpStatus === 404) return { kind: 'absent' };
        return { kind: 'failed', error: callFailure('Listing FAILED notifications', outcome) };
      }
      for (const item of outcome.value.items) if (!byId.has(item.id)) byId.set(item.id, item);
      skip += outcome.value.items.length;
      const total = outcome.value.total;
      if (outcome.value.items.length === 0 || (total !== null ? skip >= total : outcome.value.items.length < MAX_NOTIFICATIONS_PAGE)) break;
    }
    return { kind: 'listed', items: [...byId.values()] };
  }

  /**
   * Fetches every listed notification not taken in yet, then applies them oldest first. Any detail that fails ends the
   * run before anything is applied, so one user's notifications never apply out of Capa's order. Answers the error.
   */
  private async takeIn(listed: NotificationSummary[], report: RunReport, lease: RunLease): Promise<string | null> {
    const ids = listed.map((item) => item.id);
    await this.repository.markSeen(ids);
    const taken = await this.repository.takenIn(ids);
    report.duplicate += taken.size;
    await this.repository.count('duplicate', taken.size);
    this.metrics.notificationsTaken('duplicate', taken.size);

    const fetched: FetchedNotification[] = [];
    for (const [listIndex, item] of listed.entries()) {
      if (taken.has(item.id)) continue;
      if (!(await lease.mayContinue())) return null;
      const outcome = await this.gateway.callNotifications(notificationDetailCall(item.id), { deadline: Date.now() + CALL_DEADLINE_MS, notificationId: item.id });
      if (outcome.kind === 'answered') fetched.push({ detail: { ...outcome.value, createdAt: outcome.value.createdAt ?? item.createdAt }, listIndex });
      else if (outcome.kind === 'rejected' && outcome.httpStatus === 404) this.logger.warn({ notificationId: item.id }, 'A listed notification is gone at Capa; skipped');
      else if (outcome.kind === 'unreadable') this.logger.warn({ notificationId: item.id }, "A notification's detail has no payload; skipped");
      else return callFailure('Reading a notification', outcome);
    }
    for (const { detail } of oldestFirst(fetched)) {
      if (!(await lease.mayContinue())) return null;
      const result = await this.webhooks.applyReconciled(detail.id, detail.payload);
      const counter = result.taken ? 'duplicate' : 'applied';
      report[counter] += 1;
      await this.repository.count(counter);
      this.metrics.notificationsTaken(counter);
    }
    return null;
  }

  /**
   * Asks Capa to retry each listed notification taken in, oldest first, inside Capa's caps (the repository's quota,
   * by the database's clock); waits for quota until `deadline`, never past it, and not at all once stopping.
   */
  private async retry(listed: NotificationSummary[], report: RunReport, lease: RunLease, deadline: number): Promise<void> {
    const candidates = retryCandidates(listed);
    const taken = await this.repository.takenIn(candidates.map((item) => item.id));
    for (const candidate of candidates) {
      if (!taken.has(candidate.id)) continue;
      for (;;) {
        if (!(await lease.mayContinue())) return;
        const slot = await this.repository.reserveRetry(candidate.id);
        if (slot.kind === 'exhausted') break;
        if (slot.kind === 'wait') {
          if (Date.now() + slot.waitMs > deadline || !(await lease.pause(slot.waitMs))) return;
          continue;
        }
        const outcome = await this.gateway.callNotifications(retryNotificationCall(candidate.id), { deadline: Date.now() + CALL_DEADLINE_MS, maxAttempts: 1, notificationId: candidate.id });
        const answer = retryAnswer(outcome);
        await this.repository.settleRetry(slot, answer.outcome, answer.rateLimited);
        this.metrics.retryCalled(answer.outcome);
        if (answer.outcome === 'accepted') {
          report.retried += 1;
          await this.repository.count('retried');
        } else if (answer.outcome === 'refused') {
          report.retryRefused += 1;
          await this.repository.count('retryRefused');
        }
        break;
      }
    }
  }
}
