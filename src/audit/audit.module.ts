import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { AuditAdminController } from './audit-admin.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  imports: [PersistenceModule],
  controllers: [AuditAdminController],
  providers: [AuditRepository, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
