import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { SignupsModule } from '../signups/signups.module';
import { ErasureAdminController } from './erasure-admin.controller';
import { ErasureController } from './erasure.controller';
import { ErasureMetrics } from './erasure-metrics';
import { ErasureRepository } from './erasure.repository';
import { ErasureService } from './erasure.service';

@Module({
  imports: [PersistenceModule, MetricsModule, EventsModule, SignupsModule],
  controllers: [ErasureController, ErasureAdminController],
  providers: [ErasureRepository, ErasureService, ErasureMetrics],
})
export class ErasureModule {}
