import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DatabaseConnection } from './database-connection';
import { DatabaseNotifications } from './database-notifications';
import { PrismaService } from './prisma.service';
import { SchemaState } from './schema-state';

@Module({
  providers: [
    { provide: DatabaseConnection, inject: [AppConfig], useFactory: (config: AppConfig) => DatabaseConnection.open(config) },
    PrismaService,
    DatabaseNotifications,
    SchemaState,
  ],
  exports: [PrismaService, DatabaseNotifications, DatabaseConnection, SchemaState],
})
export class PersistenceModule {}
