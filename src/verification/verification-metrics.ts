import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { VerificationRepository } from './verification.repository';
import { KYC_STATUSES, type KycStatus } from './kyc-status';
import { AppMetrics } from '../metrics/app-metrics';

const STATUS_COUNT_TTL_MS = 10_000;

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
    const repository = this.repository;
    let counted: { at: number; counts: Promise<Record<KycStatus, number>> } | undefined;
    new Gauge({
      name: 'signups_kyc',
      help: 'Stored signups by KYC status (counted at scrape time, at most every 10 s)',
      labelNames: ['status'] as const,
      registers: [this.metrics.registry],
      async collect() {
        if (counted === undefined || Date.now() - counted.at > STATUS_COUNT_TTL_MS) {
          counted = { at: Date.now(), counts: repository.countByKycStatus() };
          counted.counts.catch(() => (counted = undefined));
        }
        const counts = await counted.counts;
        for (const status of KYC_STATUSES) this.set({ status }, counts[status]);
      },
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
