import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { AppMetrics } from './app-metrics';
import { MetricsController } from './metrics.controller';

@Module({
  imports: [CapaModule],
  controllers: [MetricsController],
  providers: [AppMetrics],
  exports: [AppMetrics],
})
export class MetricsModule {}
