import { Module } from '@nestjs/common';
import { CapaWebhooksController } from './capa-webhooks.controller';
import { CapaWebhooksService } from './capa-webhooks.service';

@Module({
  controllers: [CapaWebhooksController],
  providers: [CapaWebhooksService],
})
export class CapaWebhooksModule {}
