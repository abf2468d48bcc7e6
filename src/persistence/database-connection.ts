import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { startEmbeddedDatabase } from './embedded-database';
import { applyMigrations } from './migrator';

/** The PostgreSQL the service uses: DATABASE_URL, or the embedded one under DATA_DIR; migrated at boot. */
export class DatabaseConnection {
  private constructor(
    readonly connectionString: string,
    readonly poolSize: number,
    readonly embedded: boolean,
    private readonly stopEmbedded: () => Promise<void>,
  ) {}

  static async open(config: AppConfig): Promise<DatabaseConnection> {
    const logger = new Logger('Database');
    let connection: DatabaseConnection;
    if (config.databaseUrl !== undefined) {
      connection = new DatabaseConnection(config.databaseUrl, config.databasePoolSize, false, async () => {});
    } else {
      const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir });
      logger.warn(`DATABASE_URL is not set: using the embedded PostgreSQL (PGlite) in ${config.dataDir}`);
      connection = new DatabaseConnection(embedded.connectionString, embedded.maxConnections, true, embedded.stop);
    }
    if (config.migrateOnBoot) {
      try {
        const { applied } = await applyMigrations(connection.connectionString, { log: (message) => logger.log(message) });
        logger.log(applied.length > 0 ? `Applied migrations: ${applied.join(', ')}` : 'Database schema is up to date');
      } catch (error) {
        await connection.close();
        throw error;
      }
    }
    return connection;
  }

  async close(): Promise<void> {
    await this.stopEmbedded();
  }
}
