import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { VerificationMetrics } from '../verification/verification-metrics';
import { DatabaseNotifications } from '../persistence/database-notifications';
import { InboxOrigin, WebhookInboxRepository } from './webhook-inbox.repository';
import { MAPPING_CHANGED } from '../signups/mapping-cache';
import { InvalidSignatureError, WebhooksOffError } from './capa-webhooks.errors';
import { effectFor, planWebhook } from './webhook-plan';
import { CapaWebhook, InboxOutcome, readWebhook, storableBody } from './capa-webhook';
import { verifyCapaSignature } from './webhook-signature';

const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** What one delivery came to, once its transaction committed. */
export interface ReceivedWebhook {
  inboxId: bigint;
  /** When the inbox row was written (the transaction's time, by the database's clock). */
  receivedAt: Date;
  outcome: InboxOutcome;
  /** `redelivery`: a delivery a manual retry of a reconciled notification announced (a duplicate, never applied). */
  reason: string | null;
}

/** A notification read back from Capa: taken in now (`received`), or by some replica before (`taken`, nothing written). */
export type ReconciledWebhook = { taken: false; received: ReceivedWebhook } | { taken: true };

const UNIQUE_VIOLATION = '23505';

/**
 * Capa's webhooks: the signature is checked over the raw bytes before anything is parsed or stored; every signed
 * delivery becomes one inbox row, written in the same transaction as the status change it causes.
 */
@Injectable()
export class CapaWebhooksService {
  private readonly logger = new Logger(CapaWebhooksService.name);
  /** Refused signatures not logged yet, and when the last refusal line was written (at most one a minute). */
  private refusedSinceLog = 0;
  private refusalLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inbox: WebhookInboxRepository,
    private readonly config: AppConfig,
    private readonly metrics: VerificationMetrics,
    private readonly notifications: DatabaseNotifications,
  ) {}

  async receive(raw: Buffer, signature: string | string[] | undefined, requestId?: string): Promise<ReceivedWebhook> {
    const secrets = this.config.capaWebhookSecrets;
    if (secrets.length === 0) throw new WebhooksOffError();
    const verified = verifyCapaSignature(raw, signature, secrets);
    if (verified === null) {
      this.signatureRefused();
      throw new InvalidSignatureError();
    }
    const delivery = readWebhook(raw, verified.form === 'canonical' ? verified.canonical : undefined);
    const received = await this.apply(delivery);
    this.metrics.deliveryStored(received.outcome);
    this.logger.log(
      { reqId: requestId, inboxId: received.inboxId.toString(), outcome: received.outcome, reason: received.reason ?? undefined, type: delivery.type, event: delivery.event },
      'Capa webhook received',
    );
    return received;
  }

  /** Counted every time; logged at most once a minute with the count, so unsigned traffic cannot flood the log. */
  private signatureRefused(): void {
    this.metrics.signatureRejected();
    this.refusedSinceLog += 1;
    const now = performance.now();
    if (now - this.refusalLoggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.logger.warn({ refused: this.refusedSinceLog }, 'Capa webhooks refused: missing or wrong signature');
    this.refusalLoggedAt = now;
    this.refusedSinceLog = 0;
  }

  /**
   * Everything one delivery changes, in one transaction and one round trip: the user's signup row is locked first, so
   * deliveries for one user apply one after the other and the duplicate rules read what the previous one committed.
   * decideWebhook's verdict for every state the row can be found in goes along (planWebhook); the database applies
   * the one for what it found, with its events (`kyc.status_changed`, `capa.transaction`) in the transactional outbox.
   */
  /**
   * A payload read back from Capa's notification API, applied exactly as a signed delivery of it would be (minus the
   * signature: it came over Capa's authenticated API), as an inbox entry of source `reconciled`; each notification id once.
   */
  async applyReconciled(notificationId: string, payload: unknown): Promise<ReconciledWebhook> {
    // A string is the body as carried; anything else is written as Capa's sample serialises it (JSON.stringify).
    const raw = Buffer.from(typeof payload === 'string' ? payload : (JSON.stringify(payload) ?? 'null'));
    try {
      const received = await this.apply(readWebhook(raw), { source: 'reconciled', notificationId });
      return received === null ? { taken: true } : { taken: false, received };
    } catch (error) {
      // Another replica took it in between this one's check and its insert (the unique index decides).
      if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) return { taken: true };
      throw error;
    }
  }

  async apply(delivery: CapaWebhook): Promise<ReceivedWebhook>;
  async apply(delivery: CapaWebhook, origin: InboxOrigin): Promise<ReceivedWebhook | null>;
  async apply(delivery: CapaWebhook, origin: InboxOrigin = { source: 'webhook' }): Promise<ReceivedWebhook | null> {
    const plan = planWebhook(delivery, origin.source);
    const recorded = await this.inbox.recordWebhook(
      {
        externalUserId: delivery.readable ? delivery.externalUserId : null,
        type: delivery.type,
        event: delivery.event,
        sha256: delivery.sha256,
        dedupeSha256: delivery.dedupeSha256,
        body: storableBody(delivery.raw),
        payload: delivery.type === 'TRANSACTION' ? delivery.payload : null,
        content: delivery.payload,
        origin,
      },
      plan,
    );
    const { found, signupId, reason } = recorded;
    if (found.key === 'taken') return null;
    const effect = reason === null ? effectFor(plan, found) : { outcome: 'duplicate' as const, newKycStatus: null, events: [] };
    // This replica answers the change at once; the others hear the trigger's notification at commit.
    if (effect.newKycStatus !== null && signupId !== null && delivery.externalUserId !== null) {
      this.notifications.publishLocally(MAPPING_CHANGED, delivery.externalUserId);
    }
    return { inboxId: recorded.inboxId, receivedAt: recorded.receivedAt, outcome: effect.outcome, reason };
  }
}
