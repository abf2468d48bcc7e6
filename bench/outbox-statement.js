'use strict';
// node bench/outbox-statement.js: the settle statement's own cost with and without its outbox event, interleaved on
// one connection (so a busy machine's drift hits both alike). Each PENDING row is settled CREATED once, alternately
// by the service's statement (UPDATE + the outbox INSERT in one data-modifying CTE) and by the same UPDATE alone.
// Environment: BENCH_PG_URL (or TEST_PG_URL), BENCH_OUTBOX_ROWS=4000.

const path = require('node:path');
const { Client } = require('pg');

const DIST = path.resolve(__dirname, '..', 'dist');
const rows = Number(process.env.BENCH_OUTBOX_ROWS || 4000);
const pgUrl = process.env.BENCH_PG_URL || process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const { SIGNUP_EVENTS_FROM_SETTLED } = require(path.join(DIST, 'events', 'signup-events.js'));

const UPDATE = `UPDATE signups SET status = 'CREATED', capa_user_id = $2, error_code = NULL, error_message = NULL,
  next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, attempt_count = attempt_count + 1, updated_at = now()
  WHERE id = $1 AND status IN ('PENDING', 'NEEDS_ATTENTION', 'FAILED')
  RETURNING id, external_user_id AS "externalUserId", capa_user_id AS "userId", status::text AS status,
            error_code AS "errorCode", error_message AS "errorMessage", updated_at AS "updatedAt"`;
const WITH_EVENT = `WITH settled AS (${UPDATE}), event AS (${SIGNUP_EVENTS_FROM_SETTLED}) SELECT * FROM settled`;

async function main() {
  const name = `capa_bench_outbox_${process.pid}`;
  const server = new Client({ connectionString: pgUrl });
  await server.connect();
  await server.query(`CREATE DATABASE "${name}"`);
  const dbUrl = Object.assign(new URL(pgUrl), { pathname: `/${name}` }).toString();
  try {
    await require(path.join(DIST, 'persistence', 'migrator.js')).applyMigrations(dbUrl);
    const db = new Client({ connectionString: dbUrl });
    await db.connect();
    await db.query(
      `INSERT INTO signups (external_user_id, status, method, fingerprint) SELECT 'outbox-' || n, 'PENDING', 'NONE', 'x' FROM generate_series(1, $1) AS n`,
      [rows],
    );
    const { rows: ids } = await db.query('SELECT id FROM signups ORDER BY id');
    const timings = { with: [], without: [] };
    for (const [index, { id }] of ids.entries()) {
      const kind = index % 2 === 0 ? 'with' : 'without';
      const started = process.hrtime.bigint();
      await db.query({ text: kind === 'with' ? WITH_EVENT : UPDATE, values: [id, `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`] });
      timings[kind].push(Number(process.hrtime.bigint() - started) / 1000);
    }
    const events = Number((await db.query('SELECT count(*) AS n FROM outbox_events')).rows[0].n);
    await db.end();
    const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
    const summary = { rows, events, medianUs: { with: Math.round(median(timings.with)), without: Math.round(median(timings.without)) } };
    summary.addedUs = summary.medianUs.with - summary.medianUs.without;
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await server.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await server.end();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = 1;
});
