import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { EventsModule } from '../events/events.module';
import { SignupsModule } from '../signups/signups.module';
import { VerificationModule } from '../verification/verification.module';
import { AdminVerificationController } from './admin-verification.controller';
import { AdminReconciliationController } from './admin-reconciliation.controller';
import { ReconcileModule } from '../reconcile/reconcile.module';
import { AdminUiController } from './admin-ui.controller';
import { AdminController } from './admin.controller';
import { CapaWebhooksModule } from '../capa-webhooks/capa-webhooks.module';
import { AdminRepository } from './admin.repository';
import { AdminService } from './admin.service';
import { CapaCallStats } from './capa-call-stats';
import { PersistenceModule } from '../persistence/persistence.module';

@Module({
  imports: [PersistenceModule, CapaModule, SignupsModule, VerificationModule, EventsModule, CapaWebhooksModule, ReconcileModule],
  controllers: [AdminController, AdminVerificationController, AdminReconciliationController, AdminUiController],
  providers: [AdminRepository, AdminService, CapaCallStats],
})
export class AdminModule {}
