import { Global, Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { AppMetrics } from './app-metrics';
import { MetricsController } from './metrics.controller';
import { VerificationMetrics } from './verification-metrics';

@Global()
@Module({
  imports: [CapaModule],
  controllers: [MetricsController],
  providers: [AppMetrics, VerificationMetrics],
  exports: [AppMetrics, VerificationMetrics],
})
export class MetricsModule {}
