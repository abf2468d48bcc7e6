import { Module } from '@nestjs/common';
import { AdminGate } from '../common/admin-gate';
import { AuditModule } from '../audit/audit.module';
import { IdentityProvider } from './identity-provider';
import { JwtBearer } from './jwt-bearer';
import { OperatorGate } from './operator-gate';

/** Operators are people: how an admin request is admitted (key, JWT, sign-in session), roles, and signing in/out. */
@Module({
  imports: [AuditModule],
  providers: [IdentityProvider, JwtBearer, OperatorGate, { provide: AdminGate, useExisting: OperatorGate }],
  exports: [AdminGate],
})
export class OperatorsModule {}
