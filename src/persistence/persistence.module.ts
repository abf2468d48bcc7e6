import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AdminRepository } from './admin.repository';
import { DatabaseConnection } from './database-connection';
import { DatabaseNotifications } from './database-notifications';
import { PrismaService } from './prisma.service';
import { SchemaState } from './schema-state';
import { SignupRepository } from './signup.repository';
import { VerificationRepository } from './verification.repository';
import { WebhookInboxRepository } from './webhook-inbox.repository';

@Global()
@Module({
  providers: [
    { provide: DatabaseConnection, inject: [AppConfig], useFactory: (config: AppConfig) => DatabaseConnection.open(config) },
    PrismaService,
    DatabaseNotifications,
    SignupRepository,
    AdminRepository,
    VerificationRepository,
    WebhookInboxRepository,
    SchemaState,
  ],
  exports: [PrismaService, DatabaseNotifications, SignupRepository, DatabaseConnection, AdminRepository, SchemaState, VerificationRepository, WebhookInboxRepository],
})
export class PersistenceModule {}
