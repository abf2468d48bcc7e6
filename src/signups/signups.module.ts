import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { SignupsController } from './signups.controller';
import { SignupDrain } from './signup-drain';
import { SignupRecovery } from './signup-recovery';
import { SignupWorker } from './signup-worker';
import { SignupMetrics } from './signup-metrics';
import { SignupRepository } from './signup.repository';
import { SignupsService } from './signups.service';
import { PersistenceModule } from '../persistence/persistence.module';
import { MetricsModule } from '../metrics/metrics.module';
import { HealthModule } from '../health/health.module';

@Module({
  imports: [PersistenceModule, MetricsModule, HealthModule, CapaModule],
  controllers: [SignupsController],
  providers: [SignupRepository, SignupsService, SignupWorker, SignupDrain, SignupRecovery, SignupMetrics],
  exports: [SignupRepository, SignupsService],
})
export class SignupsModule {}
