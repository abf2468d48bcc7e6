import { Module } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository';
import { EventAdminController } from './event-admin.controller';
import { EventDeliverer } from './event-deliverer';
import { EventFeedRepository } from './event-feed.repository';
import { EventMetrics } from './event-metrics';
import { EventOperationsRepository } from './event-operations.repository';
import { EventRetention } from './event-retention';
import { EventStats } from './event-stats';
import { EventsController } from './events.controller';
import { OutboxWriter } from './outbox-writer';
import { PersistenceModule } from '../persistence/persistence.module';
import { MetricsModule } from '../metrics/metrics.module';
import { HealthModule } from '../health/health.module';

/** The outbox (written inside other modules' transactions), the pull feed, the push deliverer and its operations. */
@Module({
  imports: [PersistenceModule, MetricsModule, HealthModule],
  controllers: [EventsController, EventAdminController],
  providers: [OutboxWriter, EventFeedRepository, DeliveryRepository, EventDeliverer, EventOperationsRepository, EventStats, EventMetrics, EventRetention],
  exports: [OutboxWriter, EventStats],
})
export class EventsModule {}
