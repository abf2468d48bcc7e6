import { Module } from '@nestjs/common';
import { AdminGate } from '../common/admin-gate';
import { AuditModule } from '../audit/audit.module';
import { IdentityProvider } from './identity-provider';
import { JwtBearer } from './jwt-bearer';
import { OperatorGate } from './operator-gate';
import { OperatorSessions } from './operator-sessions';
import { OperatorsController } from './operators.controller';
import { SessionRepository } from './session.repository';
import { SignIn } from './sign-in';
import { PersistenceModule } from '../persistence/persistence.module';

/** Operators are people: how an admin request is admitted (key, JWT, sign-in session), roles, and signing in/out. */
@Module({
  imports: [AuditModule, PersistenceModule],
  controllers: [OperatorsController],
  providers: [IdentityProvider, JwtBearer, SessionRepository, OperatorSessions, SignIn, OperatorGate, { provide: AdminGate, useExisting: OperatorGate }],
  exports: [AdminGate],
})
export class OperatorsModule {}
