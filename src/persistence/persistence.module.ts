import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AdminRepository } from './admin.repository';
import { DatabaseConnection } from './database-connection';
import { PrismaService } from './prisma.service';
import { SignupRepository } from './signup.repository';

@Global()
@Module({
  providers: [
    { provide: DatabaseConnection, inject: [AppConfig], useFactory: (config: AppConfig) => DatabaseConnection.open(config) },
    PrismaService,
    SignupRepository,
    AdminRepository,
  ],
  exports: [PrismaService, SignupRepository, DatabaseConnection, AdminRepository],
})
export class PersistenceModule {}
