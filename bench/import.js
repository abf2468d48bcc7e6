'use strict';
// The import scenario (`BENCH_SCENARIOS=import npm run bench`): BENCH_IMPORT_ROWS (default 1,000,000) NDJSON rows
// uploaded to POST /v1/imports of the compiled service, timed until its 202 (the rows are then staged, committed
// PENDING signups), with the service's peak RSS during the upload; compared with COPY of the same rows (normalised
// and fingerprinted beforehand) into `signups` of an identical database through psql.
//   BENCH_IMPORT_ROWS=1000000  BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/postgres  BENCH_KEEP_LOGS=1
//   BENCH_SERVICE_NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=4"   V8 heap flags for the service
//   BENCH_PROFILE_DIR=/tmp/prof                                                      a CPU profile of the service

const { execFileSync } = require('node:child_process');
const { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { once } = require('node:events');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');
const { Child, freePort, rssKb } = require('./lib/procs');
const { shippedNodeFlags } = require('./lib/service-args');

const REPO = path.join(__dirname, '..');
const DIST = path.join(REPO, 'dist');
const RESULTS = path.join(__dirname, 'results');
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'bench-import-token';
const log = (message) => process.stdout.write(`[bench:import] ${message}\n`);

function dbUrl(name) {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer(sql) {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The same rows twice: an NDJSON upload, and the normalised, fingerprinted rows as CSV for COPY. */
async function writeFiles(dir) {
  const { normaliseSignup } = require(path.join(DIST, 'signups', 'signup-request.js'));
  const ndjsonPath = path.join(dir, 'users.ndjson');
  const csvPath = path.join(dir, 'users.csv');
  const ndjson = createWriteStream(ndjsonPath);
  const csv = createWriteStream(csvPath);
  for (let i = 0; i < ROWS; i++) {
    const body = i % 2 === 0 ? { externalUserId: `import-${i}`, method: 'EMAIL', identifier: `user${i}@example.com` } : { externalUserId: `import-${i}`, alias: `User ${i}` };
    const request = normaliseSignup(body);
    const line = `${request.externalUserId},${request.method},${request.identifier ?? ''},${request.alias ?? ''},${request.fingerprint},PENDING\n`;
    if (!ndjson.write(`${JSON.stringify(body)}\n`)) await once(ndjson, 'drain');
    if (!csv.write(line)) await once(csv, 'drain');
  }
  ndjson.end();
  csv.end();
  await Promise.all([once(ndjson, 'finish'), once(csv, 'finish')]);
  return { ndjsonPath, csvPath };
}

/** Streams the file to POST /v1/imports; answers the status, the import and the seconds until the answer. */
function upload(url, file) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(`${url}/v1/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson', 'content-length': statSync(file).size },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text), seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
    });
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function main() {
  const { applyMigrations } = require(path.join(DIST, 'persistence', 'migrator.js'));
  const runId = new Date().toISOString().replace(/[:.]/g, '-');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'capa-bench-import-'));
  const names = { service: `capa_bench_import_${process.pid}`, copy: `capa_bench_copy_${process.pid}` };
  let service;
  try {
    for (const name of Object.values(names)) {
      await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await onServer(`CREATE DATABASE "${name}"`);
      await applyMigrations(dbUrl(name));
    }
    log(`writing ${ROWS} rows ...`);
    const files = await writeFiles(tmp);
    const megabytes = Math.round(statSync(files.ndjsonPath).size / 1024 / 1024);
    log(`${megabytes} MiB of NDJSON`);

    const port = await freePort();
    service = new Child('service', process.execPath, [...shippedNodeFlags(), path.join(DIST, 'main.js')], {
      cwd: REPO,
      logFile: path.join(tmp, 'service.log'),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        DATABASE_URL: dbUrl(names.service),
        INBOUND_API_KEYS: TOKEN,
        ADMIN_API_KEY: 'bench-import-admin',
        LOG_LEVEL: 'warn',
        // The sandbox Capa, at one call per second: the upload is measured, not the registration.
        IMPORT_CAPA_RPS: '1',
        ...(process.env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}` } : {}),
        ...(process.env.BENCH_SERVICE_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVICE_NODE_OPTIONS } : {}),
      },
    });
    await service.waitReady(`http://127.0.0.1:${port}/health/ready`, service.start(), 60_000);
    const idleRssMb = Math.round(rssKb(service.pid) / 1024);
    let peakRssKb = 0;
    const sampler = setInterval(() => (peakRssKb = Math.max(peakRssKb, rssKb(service.pid) ?? 0)), 100);
    // Live heap vs reserved heap (read from the service's own /metrics): RSS above idle is V8's reservation, or a leak.
    const heapPeak = { usedMb: 0, totalMb: 0 };
    const heap = setInterval(async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
      const mb = (name) => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 1048576);
      heapPeak.usedMb = Math.max(heapPeak.usedMb, mb('nodejs_heap_size_used_bytes'));
      heapPeak.totalMb = Math.max(heapPeak.totalMb, mb('nodejs_heap_size_total_bytes'));
    }, 1000);
    log('uploading ...');
    const answer = await upload(`http://127.0.0.1:${port}`, files.ndjsonPath);
    clearInterval(sampler);
    clearInterval(heap);
    if (answer.status !== 202) throw new Error(`upload answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    const staged = answer.body.counts.pending + answer.body.counts.created;
    log(`staged ${staged} rows in ${answer.seconds.toFixed(1)} s; service RSS idle ${idleRssMb} MB, peak ${Math.round(peakRssKb / 1024)} MB (heap used at most ${heapPeak.usedMb} MB of ${heapPeak.totalMb} MB reserved)`);

    const copyStarted = process.hrtime.bigint();
    execFileSync('psql', [
      dbUrl(names.copy),
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `\\copy signups (external_user_id, method, identifier, alias, fingerprint, status) FROM '${files.csvPath}' WITH (FORMAT csv)`,
    ], { env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' } });
    const copySeconds = Number(process.hrtime.bigint() - copyStarted) / 1e9;
    log(`COPY through psql: ${copySeconds.toFixed(1)} s`);

    const results = {
      startedAt: runId,
      rows: ROWS,
      megabytes,
      serviceNodeFlags: shippedNodeFlags(),
      serviceNodeOptions: process.env.BENCH_SERVICE_NODE_OPTIONS ?? null,
      upload: { seconds: Math.round(answer.seconds * 10) / 10, staged, counts: answer.body.counts, idleRssMb, peakRssMb: Math.round(peakRssKb / 1024), peakHeapUsedMb: heapPeak.usedMb, peakHeapTotalMb: heapPeak.totalMb },
      copy: { seconds: Math.round(copySeconds * 10) / 10 },
      loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
      cpus: os.cpus().length,
    };
    mkdirSync(RESULTS, { recursive: true });
    const file = path.join(RESULTS, `${runId}-import.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\n${JSON.stringify(results, null, 2)}\nResults: ${path.relative(REPO, file)}\n`);
  } finally {
    await service?.stop().catch(() => undefined);
    for (const name of Object.values(names)) await onServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
    if (process.env.BENCH_KEEP_LOGS !== '1') rmSync(tmp, { recursive: true, force: true });
    else log(`logs and files kept in ${tmp}`);
  }
}

module.exports = { main };
if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`benchmark failed: ${error.stack || error}\n`);
    process.exitCode = 1;
  });
}
