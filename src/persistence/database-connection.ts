import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { applyMigrations } from './migrator';

/** The statement timeout of an upload's staging session (when DB_STATEMENT_TIMEOUT_MS is lower). */
export const STAGING_STATEMENT_TIMEOUT_MS = 10 * 60_000;

/** pg's client options for a session's timeouts (sent at connect). */
export interface SessionSettings {
  statement_timeout?: number;
  lock_timeout?: number;
  idle_in_transaction_session_timeout?: number;
}

export interface SessionTimeouts {
  statementMs: number;
  lockMs: number;
  idleInTransactionMs: number;
}

/** The PostgreSQL the service uses: DATABASE_URL, or the embedded one under DATA_DIR; migrated at boot. */
export class DatabaseConnection {
  private constructor(
    readonly connectionString: string,
    readonly poolSize: number,
    readonly embedded: boolean,
    private readonly stopEmbedded: () => Promise<void>,
    private readonly timeouts: SessionTimeouts = { statementMs: 30_000, lockMs: 5_000, idleInTransactionMs: 60_000 },
  ) {}

  /**
   * The timeouts every session starts with (startup parameters of the pg pool and clients, so they hold from the first
   * statement): statement_timeout, lock_timeout, idle_in_transaction_session_timeout, so that no wait is unbounded;
   * `statementMs` overrides the statement timeout (an upload's staging session may run longer statements, never stay
   * idle in a transaction longer). The embedded database (PGlite behind a socket, one backend serving every
   * connection in turn) gets none: its single session is shared, a timeout there would hit whoever runs next.
   */
  sessionSettings(statementMs = this.timeouts.statementMs): SessionSettings {
    if (this.embedded) return {};
    return {
      statement_timeout: Math.trunc(statementMs),
      lock_timeout: Math.trunc(this.timeouts.lockMs),
      idle_in_transaction_session_timeout: Math.trunc(this.timeouts.idleInTransactionMs),
    };
  }

  /** An upload's staging session: statements may take longer (moving a million rows), idle time may not. */
  stagingSessionSettings(): SessionSettings {
    return this.sessionSettings(Math.max(STAGING_STATEMENT_TIMEOUT_MS, this.timeouts.statementMs));
  }

  static async open(config: AppConfig): Promise<DatabaseConnection> {
    const logger = new Logger('Database');
    let connection: DatabaseConnection;
    if (config.databaseUrl !== undefined) {
      connection = new DatabaseConnection(config.databaseUrl, config.databasePoolSize, false, async () => {}, {
        statementMs: config.dbStatementTimeoutMs,
        lockMs: config.dbLockTimeoutMs,
        idleInTransactionMs: config.dbIdleInTransactionTimeoutMs,
      });
    } else {
      // PGlite (~40 ms and ~10 MB to load) only when it runs: a service with DATABASE_URL never loads it.
      const { startEmbeddedDatabase } = require('./embedded-database') as typeof import('./embedded-database');
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
