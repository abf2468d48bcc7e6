import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { CapaWebhooksModule } from '../capa-webhooks/capa-webhooks.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { VerificationModule } from '../verification/verification.module';
import { KycPoller } from './kyc-poller';
import { ReconcileAdminController } from './reconcile-admin.controller';
import { ReconcileMetrics } from './reconcile-metrics';
import { ReconcileRepository } from './reconcile.repository';
import { Reconciler } from './reconciler';

/** Reading Capa's FAILED notifications back, and the KYC poll fallback (DESIGN.md, reconciliation). */
@Module({
  imports: [PersistenceModule, MetricsModule, CapaModule, CapaWebhooksModule, VerificationModule],
  controllers: [ReconcileAdminController],
  providers: [ReconcileRepository, ReconcileMetrics, KycPoller, Reconciler],
  exports: [ReconcileRepository, Reconciler],
})
export class ReconcileModule {}
