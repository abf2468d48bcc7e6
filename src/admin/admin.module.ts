import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { EventsModule } from '../events/events.module';
import { SignupsModule } from '../signups/signups.module';
import { VerificationModule } from '../verification/verification.module';
import { AdminUiController } from './admin-ui.controller';
import { AdminController } from './admin.controller';
import { CapaWebhooksModule } from '../capa-webhooks/capa-webhooks.module';
import { AdminRepository } from './admin.repository';
import { AdminService } from './admin.service';
import { CapaCallStats } from './capa-call-stats';
import { PersistenceModule } from '../persistence/persistence.module';
import { TimelineRepository } from './timeline/timeline.repository';
import { TimelineService } from './timeline/timeline.service';

@Module({
  imports: [PersistenceModule, CapaModule, SignupsModule, VerificationModule, EventsModule, CapaWebhooksModule],
  controllers: [AdminController, AdminUiController],
  providers: [AdminRepository, AdminService, CapaCallStats, TimelineRepository, TimelineService],
})
export class AdminModule {}
