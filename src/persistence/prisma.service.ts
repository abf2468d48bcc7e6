import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import { DatabaseConnection } from './database-connection';

/**
 * The Prisma client over the pg driver adapter. The adapter's pg pool is ours and exposed as `pool`, for the
 * repository's hottest statement, which runs without Prisma's query engine (see SignupRepository).
 * On shutdown Prisma disconnects and ends the pool, then the embedded database stops.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  readonly pool: Pool;

  constructor(private readonly connection: DatabaseConnection) {
    const pool = new Pool({
      connectionString: connection.connectionString,
      max: connection.poolSize,
      connectionTimeoutMillis: 5000,
      // Every wait is bounded: statement_timeout, lock_timeout, idle_in_transaction_session_timeout (DB_*_MS).
      ...connection.sessionSettings(),
    });
    // An idle connection that dies (PostgreSQL restarted, a proxy's timeout) is an 'error' on the pool, fatal without a
    // listener; Prisma adds its own only once it connects, and the hot statements may use the pool before that.
    pool.on('error', (error) => new Logger('Database').warn(`An idle PostgreSQL connection failed (${error.message}); the pool replaces it`));
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    this.pool = pool;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await this.connection.close();
  }
}
