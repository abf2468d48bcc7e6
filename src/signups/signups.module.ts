import { Module } from '@nestjs/common';
import { CapaModule } from '../capa/capa.module';
import { SignupsController } from './signups.controller';
import { SignupDrain } from './signup-drain';
import { SignupRecovery } from './signup-recovery';
import { SignupWorker } from './signup-worker';
import { SignupsService } from './signups.service';

@Module({
  imports: [CapaModule],
  controllers: [SignupsController],
  providers: [SignupsService, SignupWorker, SignupDrain, SignupRecovery],
  exports: [SignupsService],
})
export class SignupsModule {}
