'use strict';
// npm run bench:events  (= npm run build && node bench/events.js); also run by bench/run.js (BENCH_SCENARIOS=events).
//
// The outbox and the push deliverer, in one run on a scratch database:
//  1. new signups req/s (Capa 0 ms, no endpoints) with the outbox rows, and without them (a BEFORE INSERT trigger
//     discards every outbox row: the settle statement is unchanged, the row, its index entries and WAL are gone),
//     alternated over BENCH_EVENTS_ROUNDS rounds so drift on a shared machine hits both alike;
//  2. events delivered per second to a local sink with 3 endpoints: BENCH_EVENTS_BACKLOG events committed at once,
//     timed until every (event, endpoint) delivery is DELIVERED;
//  3. new signups while the 3 endpoints receive their events: req/s, and how long after the load the backlog is 0.
// Environment: BENCH_DURATION_S=10 BENCH_WARMUP_S=3 BENCH_CONNECTIONS=50 BENCH_EVENTS_ROUNDS=2 BENCH_EVENTS_BACKLOG=20000
//   BENCH_PROFILE_DIR=<dir>   the pushing service runs with --cpu-prof into <dir> (summarise with bench/profile-summary.js)

const { randomBytes } = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const { mkdirSync, readFileSync, readdirSync, writeFileSync } = require('node:fs');
const { withClient } = require('./lib/pg');
const { Child, LoadGenerator, cpuSeconds, freePort, sleep } = require('./lib/procs');
const { shippedNodeFlags } = require('./lib/service-args');

const REPO = path.resolve(__dirname, '..');
const DIST = path.join(REPO, 'dist');
const env = process.env;
const int = (name, fallback) => (env[name] ? Number(env[name]) : fallback);
const CAPA_KEY = 'bench-events-capa-key';
const TOKEN = 'bench-events-token';
const log = (message) => process.stdout.write(`[bench events ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function run(options = {}) {
  const config = {
    durationS: int('BENCH_DURATION_S', 10),
    warmupS: int('BENCH_WARMUP_S', 3),
    connections: int('BENCH_CONNECTIONS', 50),
    rounds: int('BENCH_EVENTS_ROUNDS', 2),
    backlog: int('BENCH_EVENTS_BACKLOG', 20_000),
    pgUrl: options.pgUrl ?? env.BENCH_PG_URL ?? env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  };
  const dbName = `capa_bench_events_${process.pid}_${Date.now()}`;
  const dbUrl = Object.assign(new URL(config.pgUrl), { pathname: `/${dbName}` }).toString();
  const tmpDir = path.join(__dirname, 'results', 'tmp', `events-${Date.now()}`);
  mkdirSync(tmpDir, { recursive: true });
  const children = [];
  let load;
  const onServer = (sql) => withClient(config.pgUrl, (db) => db.query(sql));
  const onDb = (sql, values) => withClient(dbUrl, (db) => db.query(sql, values));
  const childEnv = (extra) => ({ PATH: env.PATH ?? '', HOME: env.HOME ?? '/tmp', ...extra });

  async function start(name, script, extraEnv, readyPath) {
    const port = await freePort();
    // The service with the node flags it ships with (npm start); the sink as it is.
    const args = script === path.join(DIST, 'main.js') ? [...shippedNodeFlags(), script] : [script];
    const child = new Child(name, process.execPath, args, { cwd: tmpDir, logFile: path.join(tmpDir, `${name}.log`), env: childEnv({ ...extraEnv, PORT: String(port) }) });
    children.push(child);
    const since = child.start();
    if (readyPath) await child.waitReady(`http://127.0.0.1:${port}${readyPath}`, since, 60_000);
    return { child, url: `http://127.0.0.1:${port}` };
  }

  const results = { startedAt: new Date().toISOString(), config: { ...config, pgUrl: undefined }, machine: { cpus: os.cpus().length, loadavgStart: os.loadavg() } };
  await onServer(`CREATE DATABASE "${dbName}"`);
  try {
    const { applyMigrations } = require(path.join(DIST, 'persistence', 'migrator.js'));
    await applyMigrations(dbUrl);
    const simulatorPort = await freePort();
    const simulator = new Child('simulator', process.execPath, [path.join(DIST, 'sandbox', 'main.js')], {
      cwd: REPO,
      logFile: path.join(tmpDir, 'simulator.log'),
      env: childEnv({ SANDBOX_PORT: String(simulatorPort), SANDBOX_HOST: '127.0.0.1', CAPA_PARTNER_API_KEY: CAPA_KEY }),
    });
    children.push(simulator);
    const capaUrl = `http://127.0.0.1:${simulatorPort}`;
    await simulator.waitReady(`${capaUrl}/__sim/stats`, simulator.start(), 20_000);
    const sink = await start('sink', path.join(__dirname, 'event-sink.js'), {}, '/counts');
    load = new LoadGenerator(path.join(__dirname, 'load.js'));
    const serviceEnv = {
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl,
      CAPA_BASE_URL: capaUrl,
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: TOKEN,
      ADMIN_API_KEY: 'bench-events-admin',
      LOG_LEVEL: 'warn',
    };
    let round = 0;
    const signups = async (service, label) => {
      round += 1;
      const result = await load.run({
        url: service.url,
        token: TOKEN,
        connections: config.connections,
        warmupS: config.warmupS,
        durationS: config.durationS,
        request: 'post',
        expectStatus: 201,
        ids: { kind: 'new', prefix: `bench-ev-${round}-` },
      });
      const problems = result.errors + result.timeouts + result.unexpected;
      log(`  ${label.padEnd(34)} ${Math.round(result.reqPerSec)} req/s  p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms${problems ? `  PROBLEMS ${problems}` : ''}`);
      return { reqPerSec: Math.round(result.reqPerSec), p50: result.latencyMs.p50, p99: result.latencyMs.p99, problems };
    };

    // 1. Outbox cost on new signups.
    const plain = await start('service', path.join(DIST, 'main.js'), serviceEnv, '/health/ready');
    log(`new signups with and without outbox rows (${config.rounds} rounds, ${config.durationS} s each, ${config.connections} connections)`);
    const withRows = [];
    const withoutRows = [];
    for (let index = 0; index < config.rounds; index++) {
      withRows.push(await signups(plain, 'with outbox rows'));
      await onDb(`CREATE OR REPLACE FUNCTION bench_discard_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
                  CREATE TRIGGER bench_discard_event BEFORE INSERT ON outbox_events FOR EACH ROW EXECUTE FUNCTION bench_discard_event()`);
      withoutRows.push(await signups(plain, 'without (rows discarded by trigger)'));
      await onDb('DROP TRIGGER bench_discard_event ON outbox_events');
    }
    const mean = (list) => Math.round(list.reduce((sum, r) => sum + r.reqPerSec, 0) / list.length);
    results.outboxCost = { withRows, withoutRows, withMean: mean(withRows), withoutMean: mean(withoutRows) };
    results.outboxCost.costPct = Math.round((1 - results.outboxCost.withMean / results.outboxCost.withoutMean) * 1000) / 10;
    await plain.child.stop();

    // 2. Delivery throughput, 3 endpoints.
    const endpoints = ['/a', '/b', '/c'].map((p) => `${sink.url}${p}`);
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const profiling = env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.resolve(env.BENCH_PROFILE_DIR)}` } : {};
    const pushing = await start('service-push', path.join(DIST, 'main.js'), { ...serviceEnv, ...profiling, EVENT_WEBHOOK_URLS: endpoints.join(','), EVENT_WEBHOOK_SECRET: secret, EVENT_WEBHOOK_ALLOW_HTTP: 'true' }, '/health/ready');
    await sleep(500); // endpoints registered at boot, at the feed's end
    const delivered = async () => Number((await onDb(`SELECT count(*) AS n FROM event_deliveries WHERE status = 'DELIVERED'`)).rows[0].n);
    const before = await delivered();
    await onDb(
      `INSERT INTO outbox_events (type, external_user_id, user_id, data)
       SELECT 'signup.created', 'bench-backlog-' || n, gen_random_uuid()::text, '{"status":"CREATED","error":null}' FROM generate_series(1, $1) AS n`,
      [config.backlog],
    );
    const cpuBefore = pushCpu(pushing.child.pid, sink.child.pid);
    const started = Date.now();
    const target = before + 3 * config.backlog;
    while ((await delivered()) < target && Date.now() - started < 300_000) await sleep(100);
    const seconds = (Date.now() - started) / 1000;
    const done = (await delivered()) - before;
    const cpuAfter = pushCpu(pushing.child.pid, sink.child.pid);
    const cpuMsPerDelivery = Object.fromEntries(Object.keys(cpuAfter).map((name) => [name, Math.round(((cpuAfter[name] - cpuBefore[name]) * 1e6) / Math.max(done, 1)) / 1000]));
    results.delivery = { events: config.backlog, endpoints: 3, deliveries: done, seconds: Math.round(seconds * 10) / 10, deliveriesPerSec: Math.round(done / seconds), eventsPerSecPerEndpoint: Math.round(done / 3 / seconds), cpuMsPerDelivery };
    log(`delivery: ${done} deliveries (${config.backlog} events x 3 endpoints) in ${results.delivery.seconds} s: ${results.delivery.deliveriesPerSec}/s, ${results.delivery.eventsPerSecPerEndpoint} events/s per endpoint`);
    log(`  CPU ms per delivery: service ${cpuMsPerDelivery.service}, sink ${cpuMsPerDelivery.sink}, PostgreSQL ${cpuMsPerDelivery.postgres}`);

    // 3. New signups while their events are pushed to 3 endpoints.
    log('new signups while pushing their events to 3 endpoints');
    const live = await signups(pushing, 'with 3 endpoints receiving');
    const loadEnded = Date.now();
    const owed = async () => Number((await onDb(`SELECT (SELECT count(*) FROM event_deliveries WHERE status = 'PENDING') + (SELECT count(*) FROM outbox_events e, event_endpoints ep WHERE (e.writer_xid, e.position) > (ep.cursor_xid, ep.cursor_position)) AS n`)).rows[0].n);
    const owedAtEnd = await owed();
    while ((await owed()) > 0 && Date.now() - loadEnded < 120_000) await sleep(100);
    results.live = { ...live, backlogAtLoadEnd: owedAtEnd, drainedSecondsAfterLoad: Math.round((Date.now() - loadEnded) / 100) / 10 };
    log(`  backlog when the load stopped: ${owedAtEnd} deliveries; 0 after ${results.live.drainedSecondsAfterLoad} s`);
    results.keepsUp = { needPerEndpoint: 2 * results.outboxCost.withMean, hadPerEndpoint: results.delivery.eventsPerSecPerEndpoint };
    results.finishedAt = new Date().toISOString();
    results.machine.loadavgEnd = os.loadavg();
    const file = path.join(__dirname, 'results', `events-${results.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`results: ${path.relative(REPO, file)}`);
    return results;
  } finally {
    await Promise.allSettled([...children.map((child) => child.stop('SIGTERM', 8000)), load?.stop()]);
    await onServer(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((error) => log(`could not drop ${dbName}: ${error.message}`));
  }
}

/** CPU seconds so far of the pushing service, the sink and every PostgreSQL process (the server is shared, so read it quiet). */
function pushCpu(servicePid, sinkPid) {
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') postgres += cpuSeconds(Number(entry)) ?? 0;
    } catch {
      // gone meanwhile
    }
  }
  return { service: cpuSeconds(servicePid) ?? 0, sink: cpuSeconds(sinkPid) ?? 0, postgres };
}


module.exports = { run };

if (require.main === module) {
  run().catch((error) => {
    process.stderr.write(`events benchmark failed: ${error.stack || error}\n`);
    process.exitCode = 1;
  });
}
