import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { DatabaseConnection } from './database-connection';

/** The Prisma client over the pg driver adapter; the pool is closed on shutdown, then the embedded database. */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  constructor(private readonly connection: DatabaseConnection) {
    super({
      adapter: new PrismaPg({
        connectionString: connection.connectionString,
        max: connection.poolSize,
        connectionTimeoutMillis: 5000,
      }),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
    await this.connection.close();
  }
}
