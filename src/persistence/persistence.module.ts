import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DatabaseConnection } from './database-connection';
import { PrismaService } from './prisma.service';
import { SignupRepository } from './signup.repository';

@Global()
@Module({
  providers: [
    { provide: DatabaseConnection, inject: [AppConfig], useFactory: (config: AppConfig) => DatabaseConnection.open(config) },
    PrismaService,
    SignupRepository,
  ],
  exports: [PrismaService, SignupRepository, DatabaseConnection],
})
export class PersistenceModule {}
