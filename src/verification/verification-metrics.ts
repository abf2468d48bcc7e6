import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { VerificationRepository } from './verification.repository';
import { KYC_STATUSES, type KycStatus } from './kyc-status';
import { AppMetrics } from '../metrics/app-metrics';
import { scrapeGaugeByLabel, sharedReading } from '../metrics/scrape-gauge';


/** Identity verification's metrics (webhooks, links, KYC statuses), in the app's registry. Never an id as a label. */
@Injectable()
export class VerificationMetrics implements OnModuleInit {
  private readonly webhooks: Counter<'outcome'>;
  private readonly signatureFailures: Counter;
  private readonly linkCalls: Counter<'kind' | 'outcome'>;
  private rejectedSignatures = 0;

  constructor(
    private readonly metrics: AppMetrics,
    private readonly repository: VerificationRepository,
  ) {
    const registers = [metrics.registry];
    this.webhooks = new Counter({ name: 'capa_webhooks_total', help: 'Signed Capa webhook deliveries stored, by outcome', labelNames: ['outcome'], registers });
    this.signatureFailures = new Counter({
      name: 'capa_webhook_signature_failures_total',
      help: 'Capa webhook deliveries refused for a missing or wrong signature (nothing stored)',
      registers,
    });
    this.linkCalls = new Counter({
      name: 'verification_link_requests_total',
      help: 'Verification link requests that reached Capa, by kind (KYC/KYB) and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
  }

  onModuleInit(): void {
    const { repository } = this;
    scrapeGaugeByLabel({
      registry: this.metrics.registry,
      name: 'signups_kyc',
      help: 'Stored signups by KYC status (counted at scrape time, at most every 10 s)',
      label: 'status',
      values: KYC_STATUSES,
      counts: sharedReading(() => repository.countByKycStatus()),
    });
  }

  deliveryStored(outcome: string): void {
    this.webhooks.inc({ outcome });
  }

  signatureRejected(): void {
    this.rejectedSignatures += 1;
    this.signatureFailures.inc();
  }

  /** Refused signatures since this process started (they are never stored, so no replica knows another's). */
  get rejectedSignatureCount(): number {
    return this.rejectedSignatures;
  }

  linkRequested(kind: string, outcome: string): void {
    this.linkCalls.inc({ kind, outcome });
  }
}
