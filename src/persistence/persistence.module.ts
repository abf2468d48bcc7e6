import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AdminRepository } from './admin.repository';
import { DatabaseConnection } from './database-connection';
import { PrismaService } from './prisma.service';
import { SchemaState } from './schema-state';
import { SignupRepository } from './signup.repository';

@Global()
@Module({
  providers: [
    { provide: DatabaseConnection, inject: [AppConfig], useFactory: (config: AppConfig) => DatabaseConnection.open(config) },
    PrismaService,
    SignupRepository,
    AdminRepository,
    SchemaState,
  ],
  exports: [PrismaService, SignupRepository, DatabaseConnection, AdminRepository, SchemaState],
})
export class PersistenceModule {}
