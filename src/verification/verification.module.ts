import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { EventsModule } from '../events/events.module';
import { VerificationController } from './verification.controller';
import { VerificationService } from './verification.service';

@Module({
  imports: [CapaModule, EventsModule],
  controllers: [VerificationController],
  providers: [VerificationService],
  exports: [VerificationService],
})
export class VerificationModule {}
