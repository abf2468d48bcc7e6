import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { CapaWebhooksController } from './capa-webhooks.controller';
import { VerificationModule } from '../verification/verification.module';
import { CapaWebhooksService } from './capa-webhooks.service';
import { InboxAdminController } from './inbox-admin.controller';
import { WebhookInboxRepository } from './webhook-inbox.repository';
import { PersistenceModule } from '../persistence/persistence.module';

@Module({
  imports: [PersistenceModule, EventsModule, VerificationModule],
  controllers: [CapaWebhooksController, InboxAdminController],
  providers: [WebhookInboxRepository, CapaWebhooksService],
  exports: [WebhookInboxRepository, CapaWebhooksService],
})
export class CapaWebhooksModule {}
