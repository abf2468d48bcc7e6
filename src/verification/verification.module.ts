import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { EventsModule } from '../events/events.module';
import { VerificationAdminController } from './verification-admin.controller';
import { VerificationController } from './verification.controller';
import { SignupsModule } from '../signups/signups.module';
import { VerificationMetrics } from './verification-metrics';
import { VerificationRepository } from './verification.repository';
import { VerificationService } from './verification.service';
import { PersistenceModule } from '../persistence/persistence.module';
import { MetricsModule } from '../metrics/metrics.module';

@Module({
  imports: [PersistenceModule, MetricsModule, CapaModule, EventsModule, SignupsModule],
  controllers: [VerificationController, VerificationAdminController],
  providers: [VerificationRepository, VerificationService, VerificationMetrics],
  exports: [VerificationRepository, VerificationService, VerificationMetrics],
})
export class VerificationModule {}
