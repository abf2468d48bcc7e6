import { Global, Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { AppMetrics } from './app-metrics';
import { MetricsController } from './metrics.controller';

@Global()
@Module({
  imports: [CapaModule],
  controllers: [MetricsController],
  providers: [AppMetrics],
  exports: [AppMetrics],
})
export class MetricsModule {}
