import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { waitAtMost } from '../common/deadline';
import { INSTANCE_ID } from '../common/instance-id';
import { runPollingLoop } from '../common/polling-loop';
import { AppConfig } from '../config/app-config';
import { ShutdownState } from '../health/shutdown-state';
import { retryDelayMs } from './delivery-policy';
import { DeliveryRepository } from './delivery.repository';
import { EventMetrics } from './event-metrics';
import { displayUrl } from '../config/event-webhook-settings';
import { WebhookSender } from './webhook-sender';

/** Events sent to one endpoint at once by this process: a slow endpoint holds at most this many of its own. */
const PER_ENDPOINT_CONCURRENCY = 256;
/** A lease outlives an attempt (the timeout) by this much, so it never runs out under a request in flight. */
const LEASE_MARGIN_MS = 5000;
/** A send ends at least this long before its lease does, whatever the claims cost, so it is settled under the lease. */
const SETTLE_RESERVE_MS = 1000;
/** While an endpoint's cursor stays beyond the newest transaction, its fault is logged again at most this often. */
const CURSOR_FAULT_LOG_INTERVAL_MS = 10 * 60_000;

const SANDBOX_HINT =
  'Events are in the feed (GET /v1/events); none are pushed: EVENT_WEBHOOK_URLS is not set. To receive them on a local ' +
  'endpoint: EVENT_WEBHOOK_SECRET=whsec_$(openssl rand -base64 32) node scripts/event-receiver.js 4000, then start this ' +
  'service with EVENT_WEBHOOK_URLS=http://127.0.0.1:4000/events and the same EVENT_WEBHOOK_SECRET.';

/**
 * Pushes every event to every EVENT_WEBHOOK_URLS endpoint, in every replica: one loop per endpoint, so a dead or slow
 * endpoint delays only itself, and never the signup flow (which only wrote its outbox row). Each pass claims due
 * retries with SKIP LOCKED and the events committed since the endpoint's cursor (their delivery rows created claimed),
 * sends them concurrently and settles them. At least once: a crash between send and settle sends again after the
 * lease runs out.
 */
@Injectable()
export class EventDeliverer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventDeliverer.name);
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly sender: WebhookSender | undefined;
  /** Lease owners of claims still being sent: released on shutdown if their sends did not finish. */
  private readonly activeOwners = new Set<string>();

  /** Endpoints whose cursor is beyond the newest transaction: when the fault was last logged, passes since then. */
  private readonly cursorFaults = new Map<string, { loggedAt: number; passes: number }>();

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly config: AppConfig,
    private readonly metrics: EventMetrics,
    private readonly shutdown: ShutdownState,
  ) {
    if (config.eventWebhookSecret !== undefined) this.sender = new WebhookSender(config.eventWebhookSecret, config.eventWebhookTimeoutMs, PER_ENDPOINT_CONCURRENCY);
  }

  async onApplicationBootstrap(): Promise<void> {
    const urls = this.config.eventWebhookUrls;
    if (urls.length === 0 || this.sender === undefined) {
      if (this.config.sandboxMode) this.logger.log(SANDBOX_HINT);
      return;
    }
    // Registered before the service takes requests, so its first events are pushed; a schema not migrated yet
    // (MIGRATE_ON_BOOT=false) must not stop the boot: then each endpoint's loop registers it once it can.
    const registered = await this.deliveries.registerEndpoints(urls).then(
      () => true,
      (error: unknown) => {
        this.logger.warn({ err: error }, 'Could not register the event webhook endpoints yet; retrying in the background');
        return false;
      },
    );
    for (const url of urls) this.loops.push(this.run(url, registered));
    this.logger.log(`Pushing events to ${urls.length} endpoint(s): ${urls.map(displayUrl).join(', ')}`);
  }

  /**
   * Stops claiming and lets the sends in flight finish (bounded by their timeout) within what is left of
   * SHUTDOWN_GRACE_MS, which the signup drain shares. Passes that ended by their own bound may have left leases behind
   * (a pass stuck before sending): those are freed. Passes cut off by the grace period may still be sending: their
   * leases are left to expire, so no other replica pushes the same event while this one still does.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    const ownBoundMs = this.config.eventWebhookTimeoutMs + 1000;
    const graceLeftMs = this.shutdown.graceLeftMs(this.config.shutdownGraceMs);
    const settled = await waitAtMost(Promise.allSettled(this.loops).then(() => true), Math.min(ownBoundMs, graceLeftMs));
    if (settled === true || ownBoundMs <= graceLeftMs) {
      await this.deliveries.releaseLeases([...this.activeOwners]).catch((error: unknown) => this.logger.warn({ err: error }, 'Could not release event delivery leases'));
    } else {
      this.logger.warn({ passes: this.activeOwners.size }, 'Event pushes still in flight at the end of SHUTDOWN_GRACE_MS: their leases are left to expire');
    }
    await this.sender?.destroy();
  }

  /**
   * One pass for one endpoint: claim the deliveries due for a retry, fill the rest of the pass with events new past the
   * cursor, send them all at once, settle them (one statement for the successes, one for the failures). Answers
   * whether more work may be waiting.
   */
  async runOnce(url: string): Promise<boolean> {
    const owner = `${INSTANCE_ID}:events:${randomUUID().slice(0, 8)}`;
    this.activeOwners.add(owner);
    try {
      const leaseMs = this.config.eventWebhookTimeoutMs + LEASE_MARGIN_MS;
      // Every lease of this pass runs out no sooner than leaseMs from here (the database stamps it later): the sends
      // must end before then, however long the claims took (waiting for a database connection, a lock, a busy server),
      // or another replica may take a retry whose lease ran out and send it while this one still does.
      const leasesEndAt = performance.now() + leaseMs;
      const due = await this.deliveries.claimDue(url, owner, leaseMs, PER_ENDPOINT_CONCURRENCY);
      const room = PER_ENDPOINT_CONCURRENCY - due.length;
      const fresh = room > 0 ? await this.deliveries.claimNew(url, owner, leaseMs, room, this.config.eventRetryWindowMs) : undefined;
      if (fresh !== undefined) this.noteCursor(url, fresh.cursorAhead);
      const claimed = [...due, ...(fresh?.claimed ?? [])];
      // Nothing claimed although events were passed: all of them had a redelivery row already (claimDue sends those).
      if (claimed.length === 0) return (fresh?.scanned ?? 0) > 0;
      const sendWithinMs = leasesEndAt - SETTLE_RESERVE_MS - performance.now();
      const results = await this.sender!.sendAll(
        url,
        claimed.map((delivery) => delivery.event),
        sendWithinMs,
        claimed.map((delivery) => delivery.traceParent),
      );
      await this.deliveries.markDelivered(claimed.filter((_, index) => results[index].acknowledged).map((delivery) => delivery.deliveryId));
      const failures = claimed.flatMap((delivery, index) => {
        const result = results[index];
        return result.acknowledged
          ? []
          : [{ deliveryId: delivery.deliveryId, delayMs: retryDelayMs(this.config.eventBackoff, delivery.attempts), error: result.error, httpStatus: result.httpStatus }];
      });
      await this.deliveries.markAttemptsFailed(owner, failures);
      return room === 0 || fresh?.scanned === room;
    } finally {
      this.activeOwners.delete(owner);
    }
  }

  /**
   * An endpoint's stored position beyond the newest transaction (another cluster's, e.g. kept across a dump/restore)
   * would push nothing, ever: counted on every pass that finds it (alert on its increase), logged at error level on the
   * first and then at most every 10 minutes. The position is left as it is: an operator sets it (runbook in README),
   * since moving it automatically would skip or repeat events the endpoint may or may not have.
   */
  private noteCursor(url: string, cursorAhead: boolean): void {
    const fault = this.cursorFaults.get(url);
    if (!cursorAhead) {
      if (fault === undefined) return;
      this.cursorFaults.delete(url);
      this.logger.log({ endpoint: displayUrl(url) }, 'Event endpoint cursor is within the database again; pushing resumes');
      return;
    }
    this.metrics.countCursorFault(url);
    const now = performance.now();
    if (fault !== undefined && now - fault.loggedAt < CURSOR_FAULT_LOG_INTERVAL_MS) {
      fault.passes += 1;
      return;
    }
    this.logger.error(
      { endpoint: displayUrl(url), passesSinceLastLog: fault?.passes ?? 0 },
      'Event endpoint cursor is beyond the newest transaction of this database (a position from another cluster, e.g. ' +
        'kept across a dump/restore): nothing is pushed to this endpoint until an operator resets event_endpoints.cursor_xid',
    );
    this.cursorFaults.set(url, { loggedAt: now, passes: 0 });
  }

  private run(url: string, registeredAtBoot: boolean): Promise<void> {
    let registered = registeredAtBoot;
    const interval = this.config.eventDeliveryIntervalMs;
    return runPollingLoop({
      signal: this.stopping.signal,
      pass: async () => {
        if (!registered) await this.deliveries.registerEndpoints([url]);
        registered = true;
        return (await this.runOnce(url)) ? 0 : interval;
      },
      pauseAfterErrorMs: interval,
      logger: this.logger,
      failure: 'Event delivery pass failed',
      context: { endpoint: displayUrl(url) },
    });
  }
}
