import { Controller, Get, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, PrismaHealthIndicator } from '@nestjs/terminus';
import { PrismaService } from '../persistence/prisma.service';
import { SchemaState } from '../persistence/schema-state';
import { ShutdownState } from './shutdown-state';
import { TerminusBodyFilter } from './terminus-body.filter';
import { Public } from '../common/bearer-auth.guard';

const DATABASE_PING_TIMEOUT_MS = 1000;

@ApiTags('operations')
@UseFilters(TerminusBodyFilter)
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly prismaIndicator: PrismaHealthIndicator,
    private readonly prisma: PrismaService,
    private readonly shutdown: ShutdownState,
    private readonly schema: SchemaState,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the process can serve; never touches the database' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: 200 when PostgreSQL answers, its schema has every migration of this build, and the app is not shutting down; else 503',
  })
  ready() {
    return this.health.check([
      () => {
        const indicator = this.indicators.check('lifecycle');
        return this.shutdown.isShuttingDown ? indicator.down({ state: 'shutting-down' }) : indicator.up({ state: 'serving' });
      },
      () => this.prismaIndicator.pingCheck('database', this.prisma, { timeout: DATABASE_PING_TIMEOUT_MS }),
      async () => {
        const indicator = this.indicators.check('schema');
        const pending = await this.schema.pendingMigrations().catch(() => null);
        if (pending === null) return indicator.down({ reason: 'cannot read the migration history' });
        if (pending.length === 0) return indicator.up({ migrations: 'current' });
        return indicator.down({
          reason: 'the database schema is behind this build: run `prisma migrate deploy` or set MIGRATE_ON_BOOT=true',
          pending,
        });
      },
    ]);
  }
}
