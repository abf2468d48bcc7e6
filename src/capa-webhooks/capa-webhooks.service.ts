import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { VerificationMetrics } from '../verification/verification-metrics';
import { DatabaseNotifications } from '../persistence/database-notifications';
import { WebhookInboxRepository } from './webhook-inbox.repository';
import { MAPPING_CHANGED } from '../signups/mapping-cache';
import { InvalidSignatureError, WebhooksOffError } from './capa-webhooks.errors';
import { effectFor, planDelivery } from './delivery-plan';
import { CapaDelivery, DeliveryOutcome, readDelivery, storableBody } from './webhook-delivery';
import { verifyCapaSignature } from './webhook-signature';

const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** What one delivery came to, once its transaction committed. */
export interface ReceivedDelivery {
  inboxId: bigint;
  /** When the inbox row was written (the transaction's time, by the database's clock). */
  receivedAt: Date;
  outcome: DeliveryOutcome;
}

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

  async receive(raw: Buffer, signature: string | string[] | undefined, requestId?: string): Promise<ReceivedDelivery> {
    const secrets = this.config.capaWebhookSecrets;
    if (secrets.length === 0) throw new WebhooksOffError();
    const verified = verifyCapaSignature(raw, signature, secrets);
    if (verified === null) {
      this.signatureRefused();
      throw new InvalidSignatureError();
    }
    const delivery = readDelivery(raw, verified.form === 'canonical' ? verified.canonical : undefined);
    const received = await this.apply(delivery);
    this.metrics.deliveryStored(received.outcome);
    this.logger.log(
      { reqId: requestId, inboxId: received.inboxId.toString(), outcome: received.outcome, type: delivery.type, event: delivery.event },
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
   * decideDelivery's verdict for every state the row can be found in goes along (planDelivery); the database applies
   * the one for what it found, with its events (`kyc.status_changed`, `capa.transaction`) in the transactional outbox.
   */
  async apply(delivery: CapaDelivery): Promise<ReceivedDelivery> {
    const plan = planDelivery(delivery);
    const recorded = await this.inbox.recordDelivery(
      {
        externalUserId: delivery.readable ? delivery.externalUserId : null,
        type: delivery.type,
        event: delivery.event,
        sha256: delivery.sha256,
        dedupeSha256: delivery.dedupeSha256,
        body: storableBody(delivery.raw),
        payload: delivery.type === 'TRANSACTION' ? delivery.payload : null,
      },
      plan,
    );
    const effect = effectFor(plan, recorded.found);
    // This replica answers the change at once; the others hear the trigger's notification at commit.
    if (effect.newKycStatus !== null && recorded.signupId !== null && delivery.externalUserId !== null) {
      this.notifications.publishLocally(MAPPING_CHANGED, delivery.externalUserId);
    }
    return { inboxId: recorded.inboxId, receivedAt: recorded.receivedAt, outcome: effect.outcome };
  }
}
