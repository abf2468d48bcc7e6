import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { CapaWebhooksController } from './capa-webhooks.controller';
import { CapaWebhooksService } from './capa-webhooks.service';

@Module({
  imports: [EventsModule],
  controllers: [CapaWebhooksController],
  providers: [CapaWebhooksService],
})
export class CapaWebhooksModule {}
