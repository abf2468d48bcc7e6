'use strict';
// npm run bench:timeline  (= npm run build && node bench/timeline.js)
//
// GET /admin/users/{externalUserId}/timeline of a user with a long history (issue 24: under 50 ms a page), on a scratch
// database: the compiled service (as npm start runs it) migrates it; 50,000 other CREATED signups are seeded beside one
// user whose history has BENCH_TIMELINE_ITEMS items (a long retry history, status changes, webhook entries, events and
// their push attempts, spread over hours); then the whole timeline is read page by page, BENCH_TIMELINE_ROUNDS times at
// each page size, and the time per page (client side, over HTTP on loopback) is printed.
// Environment: BENCH_TIMELINE_ITEMS=10000  BENCH_TIMELINE_ROUNDS=3  BENCH_PG_URL (default postgres@127.0.0.1:5432)

const os = require('node:os');
const path = require('node:path');
const { mkdirSync, writeFileSync } = require('node:fs');
const { Child, freePort } = require('./lib/procs');
const { withClient } = require('./lib/pg');
const { shippedNodeFlags } = require('./lib/service-args');
const { seedSql } = require('./lib/payload');

const REPO = path.resolve(__dirname, '..');
const env = process.env;
const int = (name, fallback) => (env[name] ? Number(env[name]) : fallback);
const ADMIN_TOKEN = 'bench-timeline-admin-token';
const log = (message) => process.stdout.write(`[bench timeline ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** One user's history of about `items` items, in the proportions of a long retry story (attempts 40%, the rest spread). */
async function seedHistory(db, externalUserId, items) {
  const { rows } = await db.query('SELECT id, created_at FROM signups WHERE external_user_id = $1', [externalUserId]);
  const [signup] = rows;
  const part = (share) => Math.max(1, Math.round(items * share));
  const at = (step) => `$2::timestamptz + (g * ${step} * interval '1 second')`;
  await db.query(
    `INSERT INTO capa_attempts (signup_id, at, actor, outcome, http_status, latency_ms, error_code)
     SELECT $1, ${at(1)}, 'worker', 'transient', 503, 10, 'HTTP_503' FROM generate_series(1, ${part(0.4)}) g`,
    [signup.id, signup.created_at],
  );
  await db.query(
    `INSERT INTO signup_status_changes (signup_id, at, from_status, to_status)
     SELECT $1, ${at(2)}, 'FAILED', 'PENDING' FROM generate_series(1, ${part(0.2)}) g`,
    [signup.id, signup.created_at],
  );
  await db.query(
    `INSERT INTO capa_webhook_inbox (received_at, sha256, body, outcome, type, event, external_user_id)
     SELECT ${at(3)}, md5('${externalUserId}' || g), '{}', 'duplicate', 'KYC', 'VERIFIED_USER', $1 FROM generate_series(1, ${part(0.2)}) g`,
    [externalUserId, signup.created_at],
  );
  // kyc.status_changed events count twice (an event item and a kyc.status item).
  await db.query(
    `INSERT INTO outbox_events (type, occurred_at, external_user_id, data)
     SELECT 'kyc.status_changed', ${at(4)}, $1, '{"status":"VERIFIED","previousStatus":"IN_PROGRESS","capaEvent":"VERIFIED_USER"}'
     FROM generate_series(1, ${part(0.1)}) g`,
    [externalUserId, signup.created_at],
  );
  await db.query('ANALYZE');
}

async function pageThrough(url, externalUserId, limit) {
  const timings = [];
  let items = 0;
  let cursor = null;
  do {
    const query = `?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const started = performance.now();
    const response = await fetch(`${url}/admin/users/${encodeURIComponent(externalUserId)}/timeline${query}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const body = await response.json();
    timings.push(performance.now() - started);
    if (response.status !== 200) throw new Error(`timeline answered ${response.status}: ${JSON.stringify(body)}`);
    items += body.items.length;
    cursor = body.nextCursor;
  } while (cursor !== null);
  return { timings, items };
}

function summary(timings) {
  const sorted = [...timings].sort((a, b) => a - b);
  const pct = (p) => Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1));
  return { pages: timings.length, p50: pct(0.5), p99: pct(0.99), max: pct(1) };
}

async function main() {
  const config = {
    items: int('BENCH_TIMELINE_ITEMS', 10_000),
    rounds: int('BENCH_TIMELINE_ROUNDS', 3),
    pgUrl: env.BENCH_PG_URL ?? env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  };
  const dbName = `capa_bench_timeline_${process.pid}_${Date.now()}`;
  const dbUrl = Object.assign(new URL(config.pgUrl), { pathname: `/${dbName}` }).toString();
  const tmpDir = path.join(__dirname, 'results', 'tmp', `timeline-${Date.now()}`);
  mkdirSync(tmpDir, { recursive: true });
  await withClient(config.pgUrl, (db) => db.query(`CREATE DATABASE "${dbName}"`));
  let service;
  try {
    const port = await freePort();
    service = new Child('service', process.execPath, [...shippedNodeFlags(), path.join(REPO, 'dist', 'main.js')], {
      cwd: tmpDir,
      logFile: path.join(tmpDir, 'service.log'),
      env: {
        PATH: env.PATH ?? '',
        HOME: env.HOME ?? '/tmp',
        PORT: String(port),
        DATABASE_URL: dbUrl,
        CAPA_BASE_URL: 'http://127.0.0.1:9', // never called: nothing here is PENDING, reconciliation is off
        CAPA_PARTNER_API_KEY: 'bench-timeline-capa-key',
        INBOUND_API_KEYS: 'bench-timeline-inbound-token',
        ADMIN_API_KEY: ADMIN_TOKEN,
        CAPA_WEBHOOK_SECRETS: 'bench-timeline-webhook-secret',
        CAPA_RECONCILE_INTERVAL_MS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    const url = `http://127.0.0.1:${port}`;
    await service.waitReady(`${url}/health/ready`, service.start(), 60_000);
    const externalUserId = 'tl-0000000';
    await withClient(dbUrl, async (db) => {
      await db.query(seedSql('tl-', 0, 50_000));
      await seedHistory(db, externalUserId, config.items);
    });
    const results = { startedAt: new Date().toISOString(), config: { ...config, pgUrl: undefined }, machine: { cpus: os.cpus().length, loadavgStart: os.loadavg() }, runs: [] };
    log(`load average ${os.loadavg().map((n) => n.toFixed(2)).join(' / ')}; ${config.items} items seeded for one user beside 50,000 signups`);
    for (const limit of [50, 100]) {
      for (let round = 1; round <= config.rounds; round += 1) {
        const { timings, items } = await pageThrough(url, externalUserId, limit);
        const line = { limit, round, items, ...summary(timings) };
        results.runs.push(line);
        log(`limit ${limit}, round ${round}: ${items} items in ${line.pages} pages; ms per page p50 ${line.p50}, p99 ${line.p99}, max ${line.max}`);
      }
    }
    const worst = Math.max(...results.runs.map((run) => run.p99));
    log(`worst p99 over all rounds: ${worst} ms a page (target: under 50 ms)`);
    const file = path.join(__dirname, 'results', `timeline-${results.startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`results: ${path.relative(REPO, file)}`);
  } finally {
    await service?.stop('SIGTERM', 8000);
    await withClient(config.pgUrl, (db) => db.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)).catch((error) => log(`could not drop ${dbName}: ${error.message}`));
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
