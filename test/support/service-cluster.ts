import { Client, QueryResult, QueryResultRow } from 'pg';
import { CapaSimulator, CapaSimulatorOptions } from '../../src/sandbox/capa-simulator';
import { createTestDatabase, TestDatabase } from './database';
import { ServiceProcess } from './service-process';
import { ADMIN_TOKEN, CAPA_KEY, INBOUND_TOKEN } from './test-app';

export interface ServiceClusterOptions {
  /** Prefix of the fresh database's name (lower-case letters, digits, underscores). */
  databaseName: string;
  /**
   * Added to (or replacing) the base environment of every process. A function is called at each start, for values
   * known only once other hooks ran (a receiver's URL).
   */
  env?: Record<string, string> | (() => Record<string, string>);
  /** The partner key the simulator accepts and the processes send (CAPA_KEY unless said). */
  capaKey?: string;
  simulator?: Omit<CapaSimulatorOptions, 'apiKeys'>;
  /** Kill every process and clear the simulator's faults after each test; otherwise processes live until afterAll. */
  stopAfterEach?: boolean;
}

export interface ServiceCluster {
  /** Created at once (listening from beforeAll), so specs may destructure it. */
  readonly simulator: CapaSimulator;
  readonly database: TestDatabase;
  /** The environment a process gets from `start()` without overrides. */
  readonly env: Record<string, string>;
  /** Starts the compiled service with `env` and `overrides`; it is killed by `stopAll` (or the hooks). */
  start(overrides?: Record<string, string>): Promise<ServiceProcess>;
  /** Kills every process started so far. */
  stopAll(): Promise<void>;
  /** SQL straight to the cluster's database (one connection, opened on first use, closed before the drop). */
  query<R extends QueryResultRow = any>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/**
 * The compiled service as child processes on one fresh database, against one simulator in this process, for the
 * enclosing describe: database and simulator come up in beforeAll, processes are started by the spec with `start`,
 * and everything is killed, stopped and dropped in afterAll (processes also after each test with `stopAfterEach`).
 */
export function useServiceCluster(options: ServiceClusterOptions): ServiceCluster {
  const capaKey = options.capaKey ?? CAPA_KEY;
  const simulator = new CapaSimulator({ ...options.simulator, apiKeys: [capaKey] });
  const processes: ServiceProcess[] = [];
  let database: TestDatabase | undefined;
  let capaUrl = '';
  let client: Promise<Client> | undefined;

  const started = (): TestDatabase => {
    if (database === undefined) throw new Error('useServiceCluster: the database is created in beforeAll; use it inside a test or hook');
    return database;
  };
  const env = (): Record<string, string> => ({
    NODE_ENV: 'test',
    DATABASE_URL: started().url,
    CAPA_BASE_URL: capaUrl,
    CAPA_PARTNER_API_KEY: capaKey,
    INBOUND_API_KEYS: INBOUND_TOKEN,
    ADMIN_API_KEY: ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...(typeof options.env === 'function' ? options.env() : options.env),
  });
  const stopAll = async (): Promise<void> => {
    await Promise.all(processes.splice(0).map((service) => service.kill()));
  };

  beforeAll(async () => {
    database = await createTestDatabase(options.databaseName);
    capaUrl = await simulator.start();
  });
  if (options.stopAfterEach) {
    afterEach(async () => {
      simulator.setFaults({});
      await stopAll();
    });
  }
  afterAll(async () => {
    await stopAll();
    if (client !== undefined) await (await client).end();
    await simulator.stop();
    await database?.drop();
  });

  return {
    simulator,
    get database() {
      return started();
    },
    get env() {
      return env();
    },
    async start(overrides = {}) {
      const service = await ServiceProcess.start({ ...env(), ...overrides });
      processes.push(service);
      return service;
    },
    stopAll,
    async query(sql, params) {
      client ??= (async () => {
        const opened = new Client({ connectionString: started().url });
        await opened.connect();
        return opened;
      })();
      return (await client).query(sql, params);
    },
  };
}
