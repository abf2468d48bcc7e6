import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { EventsModule } from '../events/events.module';
import { SignupsModule } from '../signups/signups.module';
import { VerificationModule } from '../verification/verification.module';
import { AdminVerificationController } from './admin-verification.controller';
import { AdminUiController } from './admin-ui.controller';
import { AdminController } from './admin.controller';
import { AdminService } from './admin.service';
import { CapaCallStats } from './capa-call-stats';

@Module({
  imports: [CapaModule, SignupsModule, VerificationModule, EventsModule],
  controllers: [AdminController, AdminVerificationController, AdminUiController],
  providers: [AdminService, CapaCallStats],
})
export class AdminModule {}
