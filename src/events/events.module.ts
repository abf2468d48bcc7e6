import { Module } from '@nestjs/common';
import { DeliveryRepository } from './delivery.repository';
import { EventDeliverer } from './event-deliverer';
import { EventFeedRepository } from './event-feed.repository';
import { EventsController } from './events.controller';
import { OutboxWriter } from './outbox-writer';

/** The outbox (written inside other modules' transactions), the pull feed and the push deliverer. */
@Module({
  controllers: [EventsController],
  providers: [OutboxWriter, EventFeedRepository, DeliveryRepository, EventDeliverer],
  exports: [OutboxWriter],
})
export class EventsModule {}
