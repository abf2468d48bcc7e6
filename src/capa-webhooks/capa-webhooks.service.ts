import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { OutboxEventInput } from '../events/event.types';
import { VerificationMetrics } from '../metrics/verification-metrics';
import { InboxTransaction, WebhookInboxRepository } from '../persistence/webhook-inbox.repository';
import type { KycStatus } from '../verification/kyc-status';
import type { EarlierDeliveries } from '../verification/webhook-duplicates';
import { InvalidSignatureError, WebhooksOffError } from './capa-webhooks.errors';
import { CapaDelivery, DeliveryOutcome, decideDelivery, readDelivery } from './webhook-delivery';
import { verifyCapaSignature } from './webhook-signature';

/** A KYC status a delivery changed, as internal services will hear of it (`kyc.status_changed`). */
export interface KycStatusChange {
  signupId: bigint;
  externalUserId: string;
  userId: string | null;
  previousStatus: KycStatus;
  status: KycStatus;
  capaEvent: string;
}

/** A TRANSACTION event for a known user, forwarded as Capa sent it (`capa.transaction`). */
export interface TransactionForward {
  signupId: bigint;
  externalUserId: string;
  userId: string | null;
  payload: Record<string, unknown>;
}

/** What one delivery came to, once its transaction committed. */
export interface ReceivedDelivery {
  inboxId: bigint;
  /** When the inbox row was written (the transaction's time, by the database's clock). */
  receivedAt: Date;
  outcome: DeliveryOutcome;
  kycChange: KycStatusChange | null;
  transaction: TransactionForward | null;
}

/**
 * Capa's webhooks: the signature is checked over the raw bytes before anything is parsed or stored; every signed
 * delivery becomes one inbox row, written in the same transaction as the status change it causes.
 */
@Injectable()
export class CapaWebhooksService {
  private readonly logger = new Logger(CapaWebhooksService.name);

  constructor(
    private readonly inbox: WebhookInboxRepository,
    private readonly config: AppConfig,
    private readonly metrics: VerificationMetrics,
  ) {}

  async receive(raw: Buffer, signature: string | string[] | undefined, requestId?: string): Promise<ReceivedDelivery> {
    const secrets = this.config.capaWebhookSecrets;
    if (secrets.length === 0) throw new WebhooksOffError();
    if (!verifyCapaSignature(raw, signature, secrets)) {
      this.metrics.signatureRejected();
      this.logger.warn({ reqId: requestId, bytes: raw.length }, 'Capa webhook refused: missing or wrong signature');
      throw new InvalidSignatureError();
    }
    const delivery = readDelivery(raw);
    const received = await this.inbox.inTransaction((tx) => this.applyInTransaction(tx, delivery));
    this.metrics.deliveryStored(received.outcome);
    this.logger.log(
      { reqId: requestId, inboxId: received.inboxId.toString(), outcome: received.outcome, type: delivery.type, event: delivery.event },
      'Capa webhook received',
    );
    return received;
  }

  /**
   * Everything one delivery changes, on one transaction: the user's signup row is locked first, so deliveries for one
   * user apply one after the other and the duplicate rules read what the previous one committed.
   * Its events (`kyc.status_changed`, `capa.transaction`) go to the transactional outbox in the statement that records
   * the change.
   */
  async applyInTransaction(tx: InboxTransaction, delivery: CapaDelivery): Promise<ReceivedDelivery> {
    const { externalUserId, type, event } = delivery;
    const signup = externalUserId !== null && delivery.readable ? await this.inbox.lockSignup(tx, externalUserId) : null;
    // Read after the lock is held, in statements of their own: under READ COMMITTED only a statement that starts after
    // the previous delivery committed sees its inbox row (a subquery of the locking SELECT would not).
    const earlier: EarlierDeliveries = {};
    if (signup !== null && type === 'KYC') earlier.latestKycSha256 = await this.inbox.latestKycSha256(tx, signup.externalUserId);
    if (signup !== null && type === 'TRANSACTION') earlier.identicalWithinWindow = await this.inbox.identicalWithinWindow(tx, delivery.sha256);
    const decision = decideDelivery(delivery, signup, earlier);

    let kycChange: KycStatusChange | null = null;
    let transaction: TransactionForward | null = null;
    let statusChange: { signupId: bigint; status: KycStatus } | null = null;
    if (signup !== null && decision.outcome === 'applied') {
      const ids = { signupId: signup.id, externalUserId: signup.externalUserId, userId: signup.capaUserId };
      if (type === 'KYC' && decision.kycStatus !== null && event !== null) {
        statusChange = { signupId: signup.id, status: decision.kycStatus };
        if (decision.kycStatus !== signup.kycStatus) {
          kycChange = { ...ids, previousStatus: signup.kycStatus, status: decision.kycStatus, capaEvent: event };
        }
      } else if (type === 'TRANSACTION' && delivery.payload !== null) {
        transaction = { ...ids, payload: delivery.payload };
      }
    }
    const events: OutboxEventInput[] = [
      ...(kycChange === null
        ? []
        : [{ type: 'kyc.status_changed' as const, externalUserId: kycChange.externalUserId, userId: kycChange.userId, data: { status: kycChange.status, previousStatus: kycChange.previousStatus, capaEvent: kycChange.capaEvent } }]),
      ...(transaction === null
        ? []
        : [{ type: 'capa.transaction' as const, externalUserId: transaction.externalUserId, userId: transaction.userId, data: transaction.payload }]),
    ];
    // The status, its events and the inbox row in one statement: one round trip instead of three.
    const entry = await this.inbox.recordDelivery(
      tx,
      {
        sha256: delivery.sha256,
        // PostgreSQL text cannot hold NUL; the SHA-256 still identifies the exact bytes received.
        body: delivery.raw.toString('utf8').replaceAll('\u0000', '\uFFFD'),
        outcome: decision.outcome,
        type,
        event,
        externalUserId,
        signupId: signup?.id ?? null,
        kycStatus: type === 'KYC' ? decision.kycStatus : null,
      },
      statusChange,
      events,
    );
    return { inboxId: entry.id, receivedAt: entry.receivedAt, outcome: decision.outcome, kycChange, transaction };
  }
}
