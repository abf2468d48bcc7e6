import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { BearerAuthGuard } from './common/bearer-auth.guard';
import { ErrorFilter } from './common/error.filter';
import { loggerParams } from './common/logging';
import { StrictValidationPipe } from './common/validation.pipe';
import { AdminModule } from './admin/admin.module';
import { AuditModule } from './audit/audit.module';
import { OperatorsModule } from './operators/operators.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { EventsModule } from './events/events.module';
import { HealthModule } from './health/health.module';
import { ImportsModule } from './imports/imports.module';
import { MetricsModule } from './metrics/metrics.module';
import { PersistenceModule } from './persistence/persistence.module';
import { SignupsModule } from './signups/signups.module';
import { CapaWebhooksModule } from './capa-webhooks/capa-webhooks.module';
import { VerificationModule } from './verification/verification.module';
import { ErasureModule } from './erasure/erasure.module';
import { ReconcileModule } from './reconcile/reconcile.module';
import { EMBEDDED_CAPA, type EmbeddedCapa } from './capa/capa-endpoint';

@Module({})
export class AppModule {
  /** `sandbox`: the built-in Capa simulator createApp started in sandbox mode; the Capa endpoint finds it by token. */
  static forRoot(config: AppConfig, sandbox?: EmbeddedCapa): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), LoggerModule.forRoot(loggerParams(config)), PersistenceModule, HealthModule, MetricsModule, SignupsModule, VerificationModule, ErasureModule, CapaWebhooksModule, ReconcileModule, AdminModule, ImportsModule, EventsModule, AuditModule, OperatorsModule],
      providers: [
        { provide: EMBEDDED_CAPA, useValue: sandbox ?? null },
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_PIPE, useClass: StrictValidationPipe },
        { provide: APP_GUARD, useClass: BearerAuthGuard },
      ],
    };
  }
}
