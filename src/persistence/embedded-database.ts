import { mkdir, open, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface EmbeddedDatabase {
  connectionString: string;
  /** How many connections the app's pool should open. */
  maxConnections: number;
  stop(): Promise<void>;
}

// PGlite is a single backend session. pglite-socket multiplexes every client connection onto it, runs one
// protocol message at a time, and only keeps other connections out while one has a BEGIN block open: they
// share session state (advisory locks are re-entrant across them, SET leaks), and an extended-protocol
// exchange stays unbroken only by the timing of its message queue. More connections add no throughput.
const POOL_CONNECTIONS = 1;

// The socket server answers a connection over its limit with plain text and a hang-up, and still counts a
// closing connection until its socket is gone: the headroom lets a pool replace a connection (or the
// migrator's connection linger) without that refusal.
const SOCKET_CONNECTION_LIMIT = 8;

const POSTGRES_DEFAULT_PORT = 5432;

export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const host = options.host ?? '127.0.0.1';
  const requestedPort = options.port ?? 0;
  if (requestedPort === POSTGRES_DEFAULT_PORT) {
    throw new Error('The embedded database must not listen on 5432: a real PostgreSQL may be there. Use 0 for a free port.');
  }
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const releaseDataDir = await lockDataDir(dataDir);

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = new PGlite(dataDir);
    await db.waitReady;
    server = new PGLiteSocketServer({ db, host, port: requestedPort, maxConnections: SOCKET_CONNECTION_LIMIT });
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await releaseDataDir();
    throw new Error(`Could not start the embedded database in ${dataDir}: ${(error as Error).message}`, { cause: error });
  }

  const serverConnection = server.getServerConn();
  const port = Number(serverConnection.slice(serverConnection.lastIndexOf(':') + 1));
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const runningServer = server;
  const runningDb = db;
  let stopping: Promise<void> | undefined;

  return {
    connectionString: `postgresql://postgres@${urlHost}:${port}/postgres`,
    maxConnections: POOL_CONNECTIONS,
    stop: () => {
      stopping ??= (async () => {
        try {
          await runningServer.stop();
          await runningDb.close();
        } finally {
          await releaseDataDir();
        }
      })();
      return stopping;
    },
  };
}

// PGlite writes a postmaster.pid but never checks it, so two processes would open (and corrupt) one directory.
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(dataDir, 'embedded.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (isRunning(owner)) {
        throw new Error(`The embedded database in ${dataDir} is already in use by process ${owner}.`);
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the embedded database directory ${dataDir}.`);
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
