import { Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ImportRepository } from './import.repository';
import { SignupsModule } from '../signups/signups.module';
import { ImportMetrics } from './import-metrics';
import { acceptImportUploads } from './import-upload';
import { ImportWorker } from './import-worker';
import { ImportsAdminController } from './imports-admin.controller';
import { ImportsController } from './imports.controller';
import { ImportsService } from './imports.service';
import { PersistenceModule } from '../persistence/persistence.module';
import { MetricsModule } from '../metrics/metrics.module';

@Module({
  imports: [PersistenceModule, MetricsModule, SignupsModule],
  controllers: [ImportsController, ImportsAdminController],
  providers: [ImportRepository, ImportsService, ImportWorker, ImportMetrics],
})
export class ImportsModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    acceptImportUploads(this.adapterHost.httpAdapter.getInstance<FastifyInstance>());
  }
}
