'use strict';
// npm run bench  (= npm run build && node bench/run.js [--cpu-prof])
//
// One run: scratch database (migrated, seeded) + Capa simulator + the service (production mode) + the raw baseline
// (bench/baseline-server.js), load from a separate process (bench/load.js, autocannon), per scenario against the
// service then the baseline; lookups with 10k vs 1M stored mappings; results to bench/results/<timestamp>.json and
// the table in BENCHMARKS.md. Everything it starts is stopped and the database dropped, also on failure or Ctrl-C.
//
// Environment (all optional):
//   BENCH_DURATION_S=10  BENCH_WARMUP_S=3  BENCH_CONNECTIONS=50      per scenario and server
//   BENCH_SEED_ROWS=10000                                            CREATED mappings seeded for replay / GET
//   BENCH_COLD_ROWS_PER_SERVER (default max(50000, 12000 * (warm-up + duration)))  ids for the cold GET scenario
//   BENCH_MILLION=1  BENCH_MILLION_ROWS=1000000                      lookup latency with 1M stored mappings
//   BENCH_LOOKUP_CONNECTIONS=10  BENCH_LOOKUP_WARMUP=2000  BENCH_LOOKUP_REQUESTS=8000
//   BENCH_CAPA_LATENCY_MS=50                                         the slow-Capa signup scenario
//   BENCH_SCENARIOS=replay,get,cold,new0,new50,webhook,webhook20,events  a subset (e.g. for a profile); events: bench/events.js
//   BENCH_SCENARIOS=import BENCH_IMPORT_ROWS=1000000                  the bulk import scenario alone (bench/import.js)
//   BENCH_PROFILE=1 (or --cpu-prof)   the service (one profile per process start) and the baseline run with
//                                     --cpu-prof into bench/results/profiles/; summaries are printed at the end
//   BENCH_WRITE_MD=1                  regenerate BENCHMARKS.md (never with a profile: those numbers are skewed)
//   BENCH_COUNT_QUERIES=1             both servers reach PostgreSQL through bench/pg-counter.js, which counts round
//                                     trips and statements per request (a diagnostic: the extra hop skews timings)
//   BENCH_SERVICE_NODE_OPTIONS        NODE_OPTIONS for the service (e.g. --max-semi-space-size=8 to try heap sizing)
//   BENCH_SERVICE_NODE_ARGS           node flags NODE_OPTIONS refuses (e.g. --trace-gc; its lines go to the service log)
//   BENCH_KEEP_LOGS=0                 keep the child processes' logs (bench/results/tmp/<run>/) after a good run
//   BENCH_PG_URL (or TEST_PG_URL)     the PostgreSQL server, default postgresql://postgres@127.0.0.1:5432/postgres

const { execFileSync, fork } = require('node:child_process');
const { mkdirSync, rmSync, rmdirSync, writeFileSync, existsSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { withClient } = require('./lib/pg');
const { serviceHeap, totalMb } = require('./lib/service-metrics');
const { Child, LoadGenerator, ProcessSampler, freePort, memoryKb, rssKb, sleep } = require('./lib/procs');
const { shippedNodeFlags } = require('./lib/service-args');
const { externalIdOf, bodyOf, fingerprintOf, fieldsOf, seedSql } = require('./lib/payload');
const { render, writeMarkdown } = require('./lib/report');
const profileSummary = require('./profile-summary');
const { WEBHOOK_SECRET } = require('./lib/webhook-payload');

const REPO = path.resolve(__dirname, '..');
const DIST = path.join(REPO, 'dist');
const RESULTS = path.join(__dirname, 'results');
const env = process.env;

function num(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

const durationS = num('BENCH_DURATION_S', 10);
const warmupS = num('BENCH_WARMUP_S', 3);
const config = {
  durationS,
  warmupS,
  connections: num('BENCH_CONNECTIONS', 50),
  seedRows: num('BENCH_SEED_ROWS', 10_000),
  coldRowsPerServer: num('BENCH_COLD_ROWS_PER_SERVER', Math.max(50_000, 12_000 * (durationS + warmupS))),
  million: env.BENCH_MILLION !== '0',
  millionRows: num('BENCH_MILLION_ROWS', 1_000_000),
  lookupConnections: num('BENCH_LOOKUP_CONNECTIONS', 10),
  lookupWarmup: num('BENCH_LOOKUP_WARMUP', 2000),
  lookupRequests: num('BENCH_LOOKUP_REQUESTS', 8000),
  capaLatencyMs: num('BENCH_CAPA_LATENCY_MS', 50),
  scenarios: env.BENCH_SCENARIOS ? env.BENCH_SCENARIOS.split(',').map((s) => s.trim()) : null,
  profile: env.BENCH_PROFILE === '1' || process.argv.includes('--cpu-prof'),
  countQueries: env.BENCH_COUNT_QUERIES === '1',
  serviceNodeOptions: env.BENCH_SERVICE_NODE_OPTIONS || '',
  serviceNodeArgs: (env.BENCH_SERVICE_NODE_ARGS || '').split(' ').filter(Boolean),
  pgUrl: env.BENCH_PG_URL || env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
};
// Only complete, undisturbed runs go into BENCHMARKS.md (their JSON is named <timestamp>.json; the others get a suffix).
const diagnostic = [config.profile && 'profile', config.serviceNodeArgs.length > 0 && 'nodeargs', config.countQueries && 'queries', config.scenarios && 'partial'].filter(Boolean);
config.writeMarkdown = env.BENCH_WRITE_MD !== '0' && diagnostic.length === 0;

const TOKEN = 'bench-inbound-token';
const ADMIN_TOKEN = 'bench-admin-token';
const CAPA_KEY = 'bench-partner-key';
const HOT = 'bench-seed-';
const COLD = 'bench-cold-';
const MILLION = 'bench-m-';

const startedAt = new Date();
const runId = startedAt.toISOString().replace(/[:.]/g, '-');
const tmpDir = path.join(RESULTS, 'tmp', runId);
const profileDir = path.join(RESULTS, 'profiles');
const dbName = `capa_bench_${process.pid}_${Date.now()}`;
const dbUrl = (() => {
  const url = new URL(config.pgUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
})();

/** The database URL a server under test uses: direct, or through the counting proxy. */
function dbUrlFor(ctx, server) {
  if (!ctx.counterPorts) return dbUrl;
  const url = new URL(dbUrl);
  url.hostname = '127.0.0.1';
  url.port = String(ctx.counterPorts[server]);
  return url.toString();
}

const log = (message) => process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Resources, cleaned up whatever happens.

const state = { children: [], load: null, counter: null, dbCreated: false, cleaning: null, interrupted: false };

async function cleanup() {
  if (state.cleaning) return state.cleaning;
  state.cleaning = (async () => {
    await Promise.allSettled([...state.children.map((child) => child.stop('SIGTERM', 8000)), state.load?.stop()]);
    if (state.counter && state.counter.exitCode === null) state.counter.kill('SIGTERM');
    if (state.dbCreated) {
      try {
        await onServer(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
        state.dbCreated = false;
      } catch (error) {
        process.stderr.write(`could not drop ${dbName}: ${error.message}\n`);
      }
    }
  })();
  return state.cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    state.interrupted = true;
    process.stderr.write(`\n${signal}: stopping the benchmark and cleaning up\n`);
    cleanup().finally(() => process.exit(130));
  });
}

function onServer(sql) {
  return withClient(config.pgUrl, (client) => client.query(sql));
}

function withDb(fn) {
  return withClient(dbUrl, fn);
}

/** Drops scratch databases of earlier runs whose harness process is gone (killed with SIGKILL, say). */
async function dropStaleDatabases() {
  const { rows } = await onServer(`SELECT datname FROM pg_database WHERE datname LIKE 'capa\\_bench\\_%'`);
  for (const { datname } of rows) {
    const pid = Number(/^capa_bench_(\d+)_/.exec(datname)?.[1]);
    if (!pid || isAlive(pid)) continue;
    log(`dropping stale scratch database ${datname}`);
    await onServer(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes.

function childEnv(extra) {
  return { PATH: env.PATH ?? '', HOME: env.HOME ?? '/tmp', ...extra };
}

let serviceStarts = 0;
const readyInMs = [];
const idleRssMb = [];
const profiles = [];

async function startService(ctx, label) {
  serviceStarts += 1;
  const args = [...shippedNodeFlags(), ...config.serviceNodeArgs];
  if (config.profile) {
    const name = `service-${runId}-${serviceStarts}-${label}.cpuprofile`;
    args.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}`);
    profiles.push(path.join(profileDir, name));
  }
  args.push(path.join(DIST, 'main.js'));
  const service = new Child('service', process.execPath, args, {
    cwd: tmpDir, // no .env file there: the environment below is the whole configuration
    logFile: path.join(tmpDir, 'service.log'),
    env: childEnv({
      NODE_ENV: 'production',
      PORT: String(ctx.servicePort),
      DATABASE_URL: dbUrlFor(ctx, 'service'),
      CAPA_BASE_URL: ctx.simulatorUrl,
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: TOKEN,
      ADMIN_API_KEY: ADMIN_TOKEN,
      CAPA_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      // The reconciliation's run at boot lists Capa's notifications (one call, off the request path); off here, so
      // "replays and reads send nothing to Capa" counts what requests send.
      CAPA_RECONCILE_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
      MIGRATE_ON_BOOT: 'true',
      ...(config.serviceNodeOptions ? { NODE_OPTIONS: config.serviceNodeOptions } : {}),
    }),
  });
  state.children.push(service);
  const spawnedAt = service.start();
  const ms = await service.waitReady(`http://127.0.0.1:${ctx.servicePort}/health/ready`, spawnedAt);
  readyInMs.push(Math.round(ms));
  await sleep(300);
  idleRssMb.push(Math.round((rssKb(service.pid) ?? 0) / 102.4) / 10);
  log(`service ready in ${Math.round(ms)} ms (pid ${service.pid}, start #${serviceStarts}: ${label}; idle RSS ${idleRssMb.at(-1)} MB)`);
  ctx.service = service;
  return service;
}

async function stopService(ctx) {
  const result = await ctx.service.stop('SIGTERM', 20_000);
  state.children = state.children.filter((child) => child !== ctx.service);
  if (result && result.code !== 0) log(`warning: service exited with ${result.code ?? result.signal}:\n${ctx.service.tail(1500)}`);
}

async function restartService(ctx, label) {
  await stopService(ctx);
  await startService(ctx, label);
}

// ---------------------------------------------------------------------------------------------------------------
// Seeding.

async function seed(prefix, from, to) {
  const started = Date.now();
  await withDb((db) => db.query(seedSql(prefix, from, to)));
  return (Date.now() - started) / 1000;
}

async function vacuumAnalyze() {
  await withDb((db) => db.query('VACUUM (ANALYZE) signups'));
}

/** The fingerprints PostgreSQL computed must be the service's own (compiled src/signups/signup-request.js). */
async function checkFingerprints(ids) {
  let serviceFingerprint;
  try {
    const { normaliseSignup } = require(path.join(DIST, 'signups', 'signup-request.js'));
    serviceFingerprint = (id) => normaliseSignup(JSON.parse(bodyOf(id))).fingerprint;
  } catch (error) {
    log(`warning: cannot load the service's normaliseSignup (${error.message}); checking against bench/lib/payload.js only`);
    serviceFingerprint = (id) => fingerprintOf(fieldsOf(id));
  }
  const { rows } = await withDb((db) =>
    db.query('SELECT external_user_id, fingerprint FROM signups WHERE external_user_id = ANY($1)', [ids]),
  );
  if (rows.length !== ids.length) throw new Error(`seed check: expected ${ids.length} rows, found ${rows.length}`);
  for (const row of rows) {
    const expected = serviceFingerprint(row.external_user_id);
    if (row.fingerprint !== expected) {
      throw new Error(`seeded fingerprint of ${row.external_user_id} is ${row.fingerprint}, the service computes ${expected}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks before load: the contract answers we rely on, on both servers.

async function call(base, method, pathName, body) {
  const response = await fetch(base + pathName, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body,
  });
  const text = await response.text();
  return { status: response.status, text };
}

async function preflight(name, base) {
  const id = `bench-preflight-${name}`;
  const checks = [
    ['new signup', 'POST', '/v1/users', bodyOf(id), 201],
    ['replay', 'POST', '/v1/users', bodyOf(id), 200],
    ['conflict', 'POST', '/v1/users', JSON.stringify({ ...fieldsOf(id), alias: 'other' }), 409],
    ['get', 'GET', `/v1/users/${encodeURIComponent(id)}`, undefined, 200],
    ['missing', 'GET', '/v1/users/bench-no-such-id', undefined, 404],
    ['invalid', 'POST', '/v1/users', JSON.stringify({ externalUserId: 'x', method: 'EMAIL', identifier: 'nope' }), 400],
  ];
  for (const [what, method, pathName, body, expected] of checks) {
    const { status, text } = await call(base, method, pathName, body);
    if (status !== expected) throw new Error(`preflight ${name} ${what}: expected ${expected}, got ${status}: ${text.slice(0, 300)}`);
  }
  const created = JSON.parse((await call(base, 'GET', `/v1/users/${encodeURIComponent(id)}`)).text);
  if (created.status !== 'CREATED' || typeof created.userId !== 'string') throw new Error(`preflight ${name}: mapping not CREATED`);
}

async function dbCounts(server) {
  if (!state.counter) return null;
  const counts = await new Promise((resolve) => {
    state.counter.once('message', (message) => resolve(message.counts));
    state.counter.send({ cmd: 'counts' });
  });
  return counts[server];
}

async function capaRequests(ctx) {
  const response = await fetch(`${ctx.simulatorUrl}/__sim/stats`);
  return (await response.json()).requests;
}

/** Rows a new-signup run wrote, by status, once in-flight requests (cut off when the load stopped) have settled. */
async function rowsByStatus(prefix) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await withDb((db) =>
      db.query(`SELECT status::text, count(*)::int AS n FROM signups WHERE external_user_id LIKE $1 || '%' GROUP BY status`, [prefix]),
    );
    const counts = Object.fromEntries(rows.map((row) => [row.status, row.n]));
    if (!counts.PENDING || Date.now() > deadline) return counts;
    await sleep(250);
  }
}

async function setCapaLatency(ctx, latencyMs) {
  const response = await fetch(`${ctx.simulatorUrl}/__sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latencyMs }),
  });
  if (response.status !== 200) throw new Error(`simulator faults: ${response.status} ${await response.text()}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Load.

function gcd(a, b) {
  return b === 0 ? a : gcd(b, a % b);
}

/** A step coprime to `count`, so (n * step) mod count visits every index once, scattered over the table. */
function strideFor(count) {
  if (count <= 2) return 1;
  let step = Math.floor(count * 0.6180339887);
  while (gcd(step, count) !== 1) step += 1;
  return step;
}

/**
 * The service's memory as it reports it on /metrics at the end of a scenario (V8's heap by space, committed and used;
 * memory outside the heap; the mapping cache's entries), to say what the resident megabytes are.
 */
async function serviceMemory(ctx) {
  try {
    const heap = await serviceHeap(ctx.servicePort);
    const resident = memoryKb(ctx.service.pid);
    const mb = (kb) => (kb == null ? null : Math.round((kb / 1024) * 10) / 10);
    return {
      rssMb: mb(resident?.rss),
      anonMb: mb(resident?.anon),
      fileMb: mb(resident?.file),
      heapCommittedMb: totalMb(heap.committed),
      heapUsedMb: totalMb(heap.used),
      newSpaceMb: heap.committed.new ?? null,
      oldSpaceMb: heap.committed.old ?? null,
      externalMb: heap.externalMb,
      cacheEntries: Number.isNaN(heap.cached) ? null : heap.cached,
    };
  } catch {
    return null;
  }
}

async function measure(ctx, server, spec) {
  const pid = server === 'service' ? ctx.service.pid : ctx.baseline.pid;
  const port = server === 'service' ? ctx.servicePort : ctx.baselinePort;
  const sampler = new ProcessSampler([pid]);
  let result;
  let sampled;
  const dbBefore = await dbCounts(server);
  try {
    result = await state.load.run({ url: `http://127.0.0.1:${port}`, token: TOKEN, ...spec }, () => sampler.markCpu());
    if (server === 'service') result.memory = await serviceMemory(ctx);
  } finally {
    sampled = sampler.stop()[pid];
  }
  const dbAfter = await dbCounts(server);
  if (dbBefore && dbAfter) {
    const requests = result.responses + (result.warmup?.responses ?? 0);
    result.db = {
      roundTripsPerReq: Math.round(((dbAfter.roundTrips - dbBefore.roundTrips) / requests) * 100) / 100,
      statementsPerReq: Math.round(((dbAfter.statements - dbBefore.statements) / requests) * 100) / 100,
    };
  }
  result.peakRssMb = sampled.peakRssMb;
  result.cpuPct = sampled.cpuPct;
  result.cpuUsPerReq = sampled.cpuS != null && result.responses > 0 ? Math.round((sampled.cpuS * 1e6) / result.responses) : null;
  const problems = result.errors + result.timeouts + result.unexpected;
  log(
    `  ${server.padEnd(8)} ${String(Math.round(result.reqPerSec)).padStart(6)} req/s  p50 ${result.latencyMs.p50} ms  p99 ${result.latencyMs.p99} ms` +
      `  rss ${result.peakRssMb} MB  cpu ${result.cpuPct}%${result.db ? `  db ${result.db.roundTripsPerReq} round trips/req` : ''}  ${problems === 0 ? 'ok' : `PROBLEMS: ${JSON.stringify({ errors: result.errors, timeouts: result.timeouts, statusCounts: result.statusCounts })}`}`,
  );
  return result;
}

function scenarioDefinitions(ctx) {
  const duration = { connections: config.connections, durationS: config.durationS, warmupS: config.warmupS };
  const coldStride = strideFor(config.coldRowsPerServer);
  return [
    {
      key: 'replay',
      title: 'replayed POST /v1/users (CREATED)',
      targetRatio: 2.0,
      p99AtMostBaseline: true,
      spec: () => ({ ...duration, request: 'post', expectStatus: 200, ids: { kind: 'random', prefix: HOT, count: config.seedRows } }),
    },
    {
      key: 'get',
      title: 'GET /v1/users/{id} (CREATED)',
      targetRatio: 2.0,
      p99AtMostBaseline: true,
      spec: () => ({ ...duration, request: 'get', expectStatus: 200, ids: { kind: 'random', prefix: HOT, count: config.seedRows } }),
    },
    {
      key: 'cold',
      title: 'cold GET (fresh process, each id once)',
      targetRatio: 0.6,
      before: { service: () => restartService(ctx, 'cold') },
      spec: (server) => ({
        ...duration,
        request: 'get',
        expectStatus: 200,
        ids: { kind: 'unique', prefix: COLD, start: server === 'service' ? 0 : config.coldRowsPerServer, count: config.coldRowsPerServer, stride: coldStride },
      }),
    },
    {
      key: 'new0',
      title: 'new signups, Capa 0 ms',
      targetRatio: 0.5,
      capaLatencyMs: 0,
      spec: (server) => ({ ...duration, request: 'post', expectStatus: 201, ids: { kind: 'new', prefix: `bench-new-${server}-0ms-` } }),
    },
    {
      key: 'new50',
      title: `new signups, Capa ${config.capaLatencyMs} ms`,
      targetRatio: null,
      capaLatencyMs: config.capaLatencyMs,
      spec: (server) => ({ ...duration, request: 'post', expectStatus: 201, ids: { kind: 'new', prefix: `bench-new-${server}-${config.capaLatencyMs}ms-` } }),
    },
    ...webhookScenarios(duration),
  ].filter((s) => config.scenarios === null || config.scenarios.includes(s.key));
}

/** Signed KYC deliveries for seeded users: signature, lock, dedupe read, status update and inbox row per request. */
function webhookScenarios(duration) {
  const spec = (connections) => () => ({ ...duration, connections, request: 'webhook', expectStatus: 200, ids: { kind: 'random', prefix: HOT, count: config.seedRows } });
  return [
    { key: 'webhook', title: `Capa webhooks, ${config.connections} connections`, targetRatio: 0.5, spec: spec(config.connections) },
    { key: 'webhook20', title: 'Capa webhooks, 20 in flight (target p99 < 50 ms)', targetRatio: null, p99UnderMs: 50, spec: spec(20) },
  ];
}

async function runScenario(ctx, scenario) {
  log(`scenario ${scenario.key}: ${scenario.title}`);
  const out = { key: scenario.key, title: scenario.title, targetRatio: scenario.targetRatio, p99AtMostBaseline: !!scenario.p99AtMostBaseline, p99UnderMs: scenario.p99UnderMs };
  for (const server of ['service', 'baseline']) {
    if (scenario.capaLatencyMs !== undefined) await setCapaLatency(ctx, scenario.capaLatencyMs);
    await scenario.before?.[server]?.();
    await sleep(500);
    const spec = scenario.spec(server);
    const capaBefore = await capaRequests(ctx);
    out[server] = await measure(ctx, server, spec);
    if (spec.ids.kind === 'new') {
      const counts = await rowsByStatus(spec.ids.prefix);
      out[server].rowsByStatus = counts;
      const notCreated = Object.entries(counts).filter(([status]) => status !== 'CREATED').reduce((n, [, c]) => n + c, 0);
      out[server].rowsNotCreated = notCreated;
      if (notCreated > 0) ctx.warnings.push(`${scenario.key}/${server}: rows not CREATED after the run: ${JSON.stringify(counts)}`);
    }
    // Calls the simulator received during warm-up + measurement (none expected for replays and reads).
    out[server].capaCalls = (await capaRequests(ctx)) - capaBefore;
    if (out[server].ids.repeats > 0) {
      ctx.warnings.push(`${scenario.key}/${server}: ${out[server].ids.repeats} ids were requested twice (raise BENCH_COLD_ROWS_PER_SERVER)`);
    }
  }
  if (scenario.capaLatencyMs !== undefined) await setCapaLatency(ctx, 0);
  out.ratio = out.baseline.reqPerSec > 0 ? Math.round((out.service.reqPerSec / out.baseline.reqPerSec) * 100) / 100 : null;
  return out;
}

async function lookup(ctx, rows, prefix, count) {
  const stride = strideFor(count);
  const perServer = config.lookupWarmup + config.lookupRequests;
  const out = { rows };
  for (const server of ['service', 'baseline']) {
    await sleep(300);
    // Each id once; the baseline gets the next ids of the same permutation when there are enough, so neither
    // server reads rows the other just pulled into PostgreSQL's buffers.
    const offset = server === 'baseline' && count >= 2 * perServer ? perServer : 0;
    out[server] = await measure(ctx, server, {
      connections: config.lookupConnections,
      warmupAmount: config.lookupWarmup,
      amount: config.lookupRequests,
      request: 'get',
      expectStatus: 200,
      ids: { kind: 'unique', prefix, start: 0, count, stride, offset },
    });
    if (server === 'service' && out[server].ids.repeats > 0) {
      ctx.warnings.push(`lookup ${rows}: ${out[server].ids.repeats} ids requested twice (BENCH_LOOKUP_WARMUP + BENCH_LOOKUP_REQUESTS > BENCH_SEED_ROWS)`);
    }
  }
  return out;
}

async function countRows() {
  const { rows } = await withDb((db) => db.query('SELECT count(*)::int AS n FROM signups'));
  return rows[0].n;
}

// ---------------------------------------------------------------------------------------------------------------
// Targets.

function evaluateTargets(results) {
  const targets = [];
  for (const s of results.scenarios) {
    if (s.targetRatio) {
      targets.push({ name: `${s.title}: req/s >= ${s.targetRatio}x baseline`, actual: `${s.ratio}x`, pass: s.ratio >= s.targetRatio });
    }
    if (s.p99UnderMs) {
      targets.push({ name: `${s.title}: service p99 < ${s.p99UnderMs} ms`, actual: `${s.service.latencyMs.p99} ms`, pass: s.service.latencyMs.p99 < s.p99UnderMs });
    }
    if (s.p99AtMostBaseline) {
      targets.push({
        name: `${s.title}: p99 <= baseline p99`,
        actual: `${s.service.latencyMs.p99} ms vs ${s.baseline.latencyMs.p99} ms`,
        pass: s.service.latencyMs.p99 <= s.baseline.latencyMs.p99,
      });
    }
  }
  const maxReady = Math.max(...results.readyInMs);
  targets.push({ name: 'ready in <= 2 s (every start)', actual: `${maxReady} ms max of ${results.readyInMs.length}`, pass: maxReady <= 2000 });
  const rss = results.scenarios.map((s) => s.service.peakRssMb).concat(results.lookups.map((l) => l.service.peakRssMb));
  const maxRss = rss.length > 0 ? Math.max(...rss) : null;
  targets.push({ name: 'service RSS <= 150 MB under load', actual: `${maxRss} MB peak`, pass: maxRss === null ? null : maxRss <= 150 });
  const small = results.lookups.find((l) => l.rows < config.millionRows);
  const large = results.lookups.find((l) => l.rows >= config.millionRows);
  if (small && large) {
    const ratio = large.service.latencyMs.p50 / small.service.latencyMs.p50;
    targets.push({
      name: `lookup p50 with ${large.rows.toLocaleString('en-US')} mappings within 10% of ${small.rows.toLocaleString('en-US')}`,
      actual: `${large.service.latencyMs.p50} ms vs ${small.service.latencyMs.p50} ms (${ratio.toFixed(2)}x; p99 ${large.service.latencyMs.p99} vs ${small.service.latencyMs.p99} ms)`,
      pass: ratio <= 1.1,
    });
  } else {
    targets.push({ name: 'lookup with 1M mappings within 10% of 10k', actual: 'not measured (BENCH_MILLION=0)', pass: null });
  }
  const all = [...results.scenarios.flatMap((s) => [s.service, s.baseline]), ...results.lookups.flatMap((l) => [l.service, l.baseline])];
  const problems = all.reduce((n, r) => n + r.errors + r.timeouts + r.unexpected + (r.rowsNotCreated ?? 0), 0);
  targets.push({
    name: 'no errors, timeouts, unexpected statuses or unsettled rows (both servers)',
    actual: String(problems),
    pass: problems === 0,
  });
  const replayCalls = results.scenarios
    .filter((s) => s.key === 'replay' || s.key === 'get' || s.key === 'cold')
    .reduce((n, s) => n + s.service.capaCalls + s.baseline.capaCalls, 0);
  targets.push({ name: 'replays and reads send nothing to Capa', actual: `${replayCalls} calls`, pass: replayCalls === 0 });
  return targets;
}

// ---------------------------------------------------------------------------------------------------------------

function git(args) {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

async function machineInfo() {
  const { rows } = await onServer('SHOW server_version');
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    totalMemGb: Math.round(os.totalmem() / 1e8) / 10,
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
    postgres: `PostgreSQL ${rows[0].server_version}`,
    gitCommit: git(['rev-parse', '--short', 'HEAD']) ?? 'unknown',
    gitDirty: (git(['status', '--porcelain', '--untracked-files=no']) ?? '') !== '',
    loadavgStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function main() {
  if (!existsSync(path.join(DIST, 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first (npm run bench does)');
  // The import scenario stands alone (its own databases and service): BENCH_SCENARIOS=import (bench/import.js).
  if (config.scenarios?.includes('import')) return require('./import').main();
  mkdirSync(tmpDir, { recursive: true });
  if (config.profile) mkdirSync(profileDir, { recursive: true });
  const machine = await machineInfo();
  log(`${machine.cpus} cpus, load average ${machine.loadavgStart.join(' ')}, node ${machine.node}, ${machine.postgres}, commit ${machine.gitCommit}${machine.gitDirty ? '+dirty' : ''}`);
  if (machine.loadavgStart[0] > 0.5 * machine.cpus) log('warning: the machine is busy; numbers will be noisy');
  const ctx = { warnings: [] };

  // 1. Scratch database with the migrations, seeded.
  await dropStaleDatabases();
  await onServer(`CREATE DATABASE "${dbName}"`);
  state.dbCreated = true;
  const { applyMigrations } = require(path.join(DIST, 'persistence', 'migrator.js'));
  await applyMigrations(dbUrl);
  const hotS = await seed(HOT, 0, config.seedRows);
  await vacuumAnalyze();
  await checkFingerprints([externalIdOf(HOT, 0), externalIdOf(HOT, config.seedRows - 1)]);
  log(`database ${dbName}: migrated, ${config.seedRows} CREATED mappings seeded in ${hotS.toFixed(1)} s (fingerprints match the service's)`);

  // 2. Simulator, load generator, service, baseline.
  ctx.simulatorPort = await freePort();
  ctx.simulatorUrl = `http://127.0.0.1:${ctx.simulatorPort}`;
  const simulator = new Child('simulator', process.execPath, [path.join(DIST, 'sandbox', 'main.js')], {
    cwd: REPO,
    logFile: path.join(tmpDir, 'simulator.log'),
    env: childEnv({ SANDBOX_PORT: String(ctx.simulatorPort), SANDBOX_HOST: '127.0.0.1', CAPA_PARTNER_API_KEY: CAPA_KEY }),
  });
  state.children.push(simulator);
  await simulator.waitReady(`${ctx.simulatorUrl}/__sim/stats`, simulator.start(), 20_000);
  await setCapaLatency(ctx, 0);

  state.load = new LoadGenerator(path.join(__dirname, 'load.js'));

  if (config.countQueries) {
    ctx.counterPorts = { service: await freePort(), baseline: await freePort() };
    const pg = new URL(config.pgUrl);
    state.counter = fork(path.join(__dirname, 'pg-counter.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: childEnv({
        PG_HOST: pg.hostname,
        PG_PORT: pg.port || '5432',
        LISTEN: `service:${ctx.counterPorts.service},baseline:${ctx.counterPorts.baseline}`,
      }),
    });
    await new Promise((resolve) => state.counter.once('message', resolve));
    log('counting PostgreSQL round trips through bench/pg-counter.js (timings are skewed by the extra hop)');
  }

  ctx.servicePort = await freePort();
  await startService(ctx, 'first');

  ctx.baselinePort = await freePort();
  const baselineArgs = [path.join(__dirname, 'baseline-server.js')];
  if (config.profile) {
    const name = `baseline-${runId}.cpuprofile`;
    baselineArgs.unshift('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}`);
    profiles.push(path.join(profileDir, name));
  }
  ctx.baseline = new Child('baseline', process.execPath, baselineArgs, {
    cwd: REPO,
    ipc: true,
    logFile: path.join(tmpDir, 'baseline.log'),
    env: childEnv({
      PORT: String(ctx.baselinePort),
      DATABASE_URL: dbUrlFor(ctx, 'baseline'),
      CAPA_BASE_URL: ctx.simulatorUrl,
      CAPA_PARTNER_API_KEY: CAPA_KEY,
      INBOUND_API_KEYS: TOKEN,
      CAPA_WEBHOOK_SECRETS: WEBHOOK_SECRET,
      DATABASE_POOL_SIZE: '10',
    }),
  });
  state.children.push(ctx.baseline);
  const baselineReady = await ctx.baseline.waitReady(`http://127.0.0.1:${ctx.baselinePort}/health/ready`, ctx.baseline.start(), 20_000);
  log(`baseline ready in ${Math.round(baselineReady)} ms (pid ${ctx.baseline.pid})`);

  await preflight('service', `http://127.0.0.1:${ctx.servicePort}`);
  await preflight('baseline', `http://127.0.0.1:${ctx.baselinePort}`);
  log('preflight: both servers answer 201 / 200 replay / 409 / 200 / 404 / 400 as the contract says');

  // 3. Lookups with the seeded mappings only, on the fresh service process (nothing cached yet).
  const lookups = [];
  const lookupSelected = config.scenarios === null || config.scenarios.includes('lookup');
  // The load generator's own first run is slower (cold JIT): warm it up against the baseline, which caches nothing.
  await state.load.run({
    url: `http://127.0.0.1:${ctx.baselinePort}`,
    token: TOKEN,
    connections: config.lookupConnections,
    warmupAmount: 0,
    amount: 3000,
    request: 'get',
    expectStatus: 200,
    ids: { kind: 'random', prefix: HOT, count: config.seedRows },
  });
  if (lookupSelected) {
    const rowsNow = await countRows();
    log(`lookup latency with ${rowsNow} stored mappings (${config.lookupConnections} connections)`);
    lookups.push(await lookup(ctx, rowsNow, HOT, config.seedRows));
  }

  // 4. Scenarios, service then baseline.
  const scenarios = scenarioDefinitions(ctx);
  if (scenarios.some((s) => s.key === 'cold')) {
    const coldS = await seed(COLD, 0, 2 * config.coldRowsPerServer);
    await vacuumAnalyze();
    log(`${2 * config.coldRowsPerServer} mappings seeded for cold lookups in ${coldS.toFixed(1)} s`);
  }
  const scenarioResults = [];
  for (const scenario of scenarios) scenarioResults.push(await runScenario(ctx, scenario));

  // 5. Lookups with 1M stored mappings.
  let millionInsert = null;
  if (config.million && lookupSelected) {
    const before = await countRows();
    const toInsert = Math.max(0, config.millionRows - before);
    log(`inserting ${toInsert} mappings to reach ${config.millionRows} ...`);
    const started = Date.now();
    const chunk = 250_000;
    for (let from = 0; from < toInsert; from += chunk) await seed(MILLION, from, Math.min(toInsert, from + chunk));
    await vacuumAnalyze();
    millionInsert = { rows: toInsert, seconds: Math.round((Date.now() - started) / 100) / 10 };
    const rowsNow = await countRows();
    log(`  done in ${millionInsert.seconds} s; ${rowsNow} stored mappings; restarting the service so nothing is cached`);
    await restartService(ctx, 'million');
    lookups.push(await lookup(ctx, rowsNow, MILLION, toInsert));
  }

  // 5b. The outbox's cost on new signups and the push deliverer's throughput (bench/events.js, its own database).
  const events = config.scenarios === null || config.scenarios.includes('events') ? await require('./events').run({ pgUrl: config.pgUrl }) : null;

  // 6. Report.
  const results = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    wallS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    config,
    machine: { ...machine, loadavgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    readyInMs,
    serviceIdleRssMb: idleRssMb,
    baselineReadyInMs: Math.round(baselineReady),
    scenarios: scenarioResults,
    lookups,
    millionInsert,
    events,
    warnings: ctx.warnings,
    profiles: [],
  };
  results.targets = evaluateTargets(results);

  await cleanup(); // the service writes its profile on exit
  if (config.profile) {
    for (const file of profiles) {
      if (!existsSync(file)) continue;
      const summary = profileSummary.summarise(file, 20);
      profileSummary.print(summary);
      results.profiles.push(summary);
    }
  }

  mkdirSync(RESULTS, { recursive: true });
  const jsonName = `${[runId, ...diagnostic].join('-')}.json`;
  const jsonPath = path.join(RESULTS, jsonName);
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
  const text = render(results);
  process.stdout.write(`\n${text}\n\nResults: ${path.relative(REPO, jsonPath)}\n`);
  if (config.writeMarkdown) {
    writeMarkdown(path.join(REPO, 'BENCHMARKS.md'), results, `bench/results/${jsonName}`);
    process.stdout.write('BENCHMARKS.md updated.\n');
  }
  if (env.BENCH_KEEP_LOGS !== '1') {
    rmSync(tmpDir, { recursive: true, force: true });
    try {
      rmdirSync(path.dirname(tmpDir)); // only when no other run's logs are left there
    } catch {
      // not empty
    }
  }
  else process.stdout.write(`Logs: ${path.relative(REPO, tmpDir)}\n`);
  log(`done in ${results.wallS} s`);
}

main()
  .catch(async (error) => {
    if (state.interrupted) return;
    process.stderr.write(`\nbenchmark failed: ${error.stack || error}\n`);
    for (const child of state.children) {
      if (child.name === 'service' || child.name === 'baseline') process.stderr.write(`\n--- ${child.name} log (tail) ---\n${child.tail(2500)}\n`);
    }
    process.stderr.write(`(logs kept in ${path.relative(REPO, tmpDir)})\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
