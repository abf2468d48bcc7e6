'use strict';
// npm run bench:memory  (= npm run build && node bench/memory.js)
//
// What the service's resident memory is made of (BENCHMARKS.md, "what each megabyte is"): the service as `npm start`
// runs it (production mode, a scratch database, the Capa simulator), measured idle, after GETs of 10,000 CREATED ids
// and after GETs of 100,000 (the mapping cache full at its default bound). Two passes over the same stages:
//   1. resident memory from /proc (the node binary's pages, V8's 256 KB heap pages, malloc's main arena, other
//      anonymous memory: thread arenas, stacks, WebAssembly, V8's large objects) and V8's heap from /metrics;
//   2. the same stages with a heap snapshot at each (SIGUSR2, --heapsnapshot-signal): a snapshot forces a full GC, so
//      the heap used right after it is what is live; the snapshot is summed by kind (strings, compiled code, ...).
//      Writing a snapshot grows the process's malloc heap, which is why pass 1 reads the resident memory first.
// Everything it starts is stopped and the database dropped; snapshots go to bench/results/tmp/ and are deleted
// (BENCH_KEEP_SNAPSHOTS=1 keeps them). BENCH_PG_URL (or TEST_PG_URL) as for npm run bench.

const { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, existsSync } = require('node:fs');
const path = require('node:path');
const { withClient } = require('./lib/pg');
const { serviceHeap, totalMb } = require('./lib/service-metrics');
const { Child, freePort, memoryKb, sleep } = require('./lib/procs');
const { shippedNodeFlags } = require('./lib/service-args');
const { externalIdOf, seedSql } = require('./lib/payload');
const { table, fmt } = require('./lib/report');

const REPO = path.resolve(__dirname, '..');
const DIST = path.join(REPO, 'dist');
const pgUrl = process.env.BENCH_PG_URL || process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `capa_memory_${process.pid}_${Date.now()}`;
const dbUrl = Object.assign(new URL(pgUrl), { pathname: `/${dbName}` }).toString();
const tmpDir = path.join(__dirname, 'results', 'tmp', `memory-${Date.now()}`);
const TOKEN = 'memory-inbound-token';
const PREFIX = 'mem-';
const MAPPINGS = 100_000;
const mb = (kb) => Math.round(kb / 102.4) / 10;
const log = (message) => process.stdout.write(`[memory ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
const children = [];

/** Resident memory by kind of mapping, in MB (V8 allocates its heap in 256 KB pages; large objects apart). */
function residentByKind(pid) {
  const kinds = {};
  let size = 0;
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (range) {
      size = parseInt(range[2], 16) - parseInt(range[1], 16);
      name = range[3].trim();
    } else if (line.startsWith('Rss:')) {
      const kind = name.endsWith('/bin/node')
        ? 'node binary'
        : name === '[heap]'
          ? "malloc's main arena"
          : name.startsWith('[')
            ? name
            : name
              ? 'other files'
              : size === 256 * 1024
                ? "V8's heap pages"
                : 'other anonymous';
      kinds[kind] = (kinds[kind] ?? 0) + Number(line.split(/\s+/)[1]);
    }
  }
  return Object.fromEntries(Object.entries(kinds).map(([kind, kb]) => [kind, mb(kb)]));
}

/** A heap snapshot's objects summed by kind, in MB (strings, compiled code, arrays, ...). */
function snapshotByKind(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: fields, node_types: [types] } = snapshot.snapshot.meta;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const sizeAt = fields.indexOf('self_size');
  const kinds = {};
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]];
    const kind = type.endsWith('string') ? 'strings' : type === 'code' ? 'compiled code' : type === 'array' ? 'arrays' : type === 'object shape' ? 'object shapes' : type === 'closure' ? 'closures' : type === 'object' ? 'objects' : 'other';
    kinds[kind] = (kinds[kind] ?? 0) + snapshot.nodes[i + sizeAt];
    total += snapshot.nodes[i + sizeAt];
  }
  const toMb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
  return { allMb: toMb(total), ...Object.fromEntries(Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([kind, bytes]) => [kind, toMb(bytes)])) };
}

async function takeSnapshot(service, label) {
  const before = new Set(readdirSync(tmpDir));
  process.kill(service.pid, 'SIGUSR2');
  for (let waited = 0; waited < 120_000; waited += 250) {
    await sleep(250);
    const file = readdirSync(tmpDir).find((name) => name.endsWith('.heapsnapshot') && !before.has(name));
    if (file === undefined) continue;
    // Written in one go by the service's main thread: done once its size stops changing.
    let size = -1;
    while (size !== statSync(path.join(tmpDir, file)).size) {
      size = statSync(path.join(tmpDir, file)).size;
      await sleep(500);
    }
    const target = path.join(tmpDir, `${label}.heapsnapshot`);
    renameSync(path.join(tmpDir, file), target);
    return target;
  }
  throw new Error('the service wrote no heap snapshot within 120 s');
}

async function getLoad(port, count, seconds) {
  const autocannon = require('autocannon');
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 50,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/v1/users/${externalIdOf(PREFIX, next++ % count)}`, headers: { authorization: `Bearer ${TOKEN}` } }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return Math.round(result.requests.average);
}

async function pass(simulatorUrl, snapshots) {
  const port = await freePort();
  const args = [...shippedNodeFlags(), ...(snapshots ? ['--heapsnapshot-signal=SIGUSR2'] : []), path.join(DIST, 'main.js')];
  const service = new Child('service', process.execPath, args, {
    cwd: tmpDir,
    logFile: path.join(tmpDir, `service-${snapshots ? 'snapshots' : 'resident'}.log`),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: dbUrl,
      CAPA_BASE_URL: simulatorUrl,
      CAPA_PARTNER_API_KEY: 'memory-partner-key',
      INBOUND_API_KEYS: TOKEN,
      ADMIN_API_KEY: 'memory-admin-token',
      CAPA_WEBHOOK_SECRETS: 'memory-webhook-secret-0123456789',
      CAPA_RECONCILE_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
    },
  });
  children.push(service);
  await service.waitReady(`http://127.0.0.1:${port}/health/ready`, service.start());
  const stages = [];
  const stage = async (name) => {
    const resident = memoryKb(service.pid);
    const row = { name, rssMb: mb(resident.rss), anonMb: mb(resident.anon), fileMb: mb(resident.file), byKind: residentByKind(service.pid), heap: await serviceHeap(port) };
    if (snapshots) {
      const file = await takeSnapshot(service, name.replace(/\W+/g, '-'));
      row.live = (await serviceHeap(port)).used;
      row.snapshot = snapshotByKind(file);
      if (process.env.BENCH_KEEP_SNAPSHOTS !== '1') rmSync(file);
    }
    stages.push(row);
    log(`  ${snapshots ? 'snapshots' : 'resident '}  ${name}: RSS ${row.rssMb} MB`);
  };
  await sleep(300);
  await stage('idle, 300 ms after ready');
  await sleep(10_000);
  await stage('idle, 10 s after ready');
  log(`  GETs of 10,000 ids for 15 s: ${await getLoad(port, 10_000, 15)} req/s`);
  await stage('after GETs of 10,000 ids');
  log(`  GETs of ${MAPPINGS.toLocaleString('en-US')} ids for 30 s: ${await getLoad(port, MAPPINGS, 30)} req/s`);
  await stage(`after GETs of ${MAPPINGS.toLocaleString('en-US')} ids`);
  await service.stop('SIGTERM', 8000);
  return stages;
}

function report(resident, snapshots) {
  // Mappings of under half a megabyte in every stage ([vdso], [stack], ...) are left out.
  const kinds = [...new Set(resident.flatMap((s) => Object.keys(s.byKind)))].filter((kind) => resident.some((s) => (s.byKind[kind] ?? 0) >= 0.5));
  const lines = [
    '',
    'Resident memory (MB), pass 1:',
    '',
    table(['stage', 'RSS', 'anon', 'file', ...kinds], resident.map((s) => [s.name, fmt(s.rssMb), fmt(s.anonMb), fmt(s.fileMb), ...kinds.map((k) => fmt(s.byKind[k] ?? 0))]), ['l']),
    '',
    "V8's heap (MB) from /metrics, pass 1: committed by space, used, outside the heap (external), cached mappings:",
    '',
    table(
      ['stage', 'committed', 'young', 'old', 'code', 'trusted', 'large objects', 'used', 'external', 'cached'],
      resident.map((s) => [s.name, fmt(totalMb(s.heap.committed)), fmt(s.heap.committed.new ?? 0), fmt(s.heap.committed.old ?? 0), fmt(s.heap.committed.code ?? 0), fmt(s.heap.committed.trusted ?? 0), fmt(s.heap.committed.large_object ?? 0), fmt(totalMb(s.heap.used)), fmt(s.heap.externalMb), fmt(s.heap.cached, 0)]),
      ['l'],
    ),
    '',
    'Live heap after a full GC (MB), pass 2, and the heap snapshot by kind of object:',
    '',
  ];
  const snapshotKinds = [...new Set(snapshots.flatMap((s) => Object.keys(s.snapshot).filter((k) => k !== 'allMb')))];
  lines.push(
    table(
      ['stage', 'live heap', 'snapshot total', ...snapshotKinds],
      snapshots.map((s) => [s.name, fmt(totalMb(s.live)), fmt(s.snapshot.allMb), ...snapshotKinds.map((k) => fmt(s.snapshot[k] ?? 0))]),
      ['l'],
    ),
  );
  return lines.join('\n');
}

async function main() {
  if (!existsSync(path.join(DIST, 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first (npm run bench:memory does)');
  mkdirSync(tmpDir, { recursive: true });
  await withClient(pgUrl, (client) => client.query(`CREATE DATABASE "${dbName}"`));
  try {
    const { applyMigrations } = require(path.join(DIST, 'persistence', 'migrator.js'));
    await applyMigrations(dbUrl);
    await withClient(dbUrl, async (client) => {
      await client.query(seedSql(PREFIX, 0, MAPPINGS));
      await client.query('VACUUM ANALYZE signups');
    });
    log(`database ${dbName}: ${MAPPINGS.toLocaleString('en-US')} CREATED mappings`);
    const simulatorPort = await freePort();
    const simulator = new Child('simulator', process.execPath, [path.join(DIST, 'sandbox', 'main.js')], {
      cwd: REPO,
      logFile: path.join(tmpDir, 'simulator.log'),
      env: { PATH: process.env.PATH ?? '', SANDBOX_PORT: String(simulatorPort), SANDBOX_HOST: '127.0.0.1', CAPA_PARTNER_API_KEY: 'memory-partner-key' },
    });
    children.push(simulator);
    const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
    await simulator.waitReady(`${simulatorUrl}/__sim/stats`, simulator.start(), 20_000);
    const resident = await pass(simulatorUrl, false);
    const snapshots = await pass(simulatorUrl, true);
    process.stdout.write(`${report(resident, snapshots)}\n`);
  } finally {
    await Promise.allSettled(children.map((child) => child.stop('SIGTERM', 8000)));
    await withClient(pgUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)).catch((error) => log(`could not drop ${dbName}: ${error.message}`));
    if (process.env.BENCH_KEEP_SNAPSHOTS !== '1') rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
