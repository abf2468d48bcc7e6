'use strict';
// The raw floor the service is compared with: node:http + pg (Pool of 10), no framework, no ORM.
// Same contract for the benchmarked paths, same table, same simulator:
//   POST /v1/users     parse JSON, validate the same rules (minimally), normalise + fingerprint like the service,
//                      SELECT by external_user_id; existing: compare fingerprint, 200 replay / 409 / 202;
//                      new: INSERT PENDING (holding a lease), POST to Capa, INSERT the attempt row, UPDATE to CREATED, 201.
//   GET /v1/users/:id  SELECT, 200 mapping or 404.
//   GET /health/ready  SELECT 1.
// Env: PORT, DATABASE_URL, CAPA_BASE_URL, CAPA_PARTNER_API_KEY, INBOUND_API_KEYS, DATABASE_POOL_SIZE (10).

const http = require('node:http');
const { createHash, timingSafeEqual } = require('node:crypto');
const { Pool } = require('pg');
const { parsePhoneNumberWithError, isValidPhoneNumber } = require('libphonenumber-js');
const { handleWebhook } = require('./webhook-baseline');

const PORT = Number(process.env.PORT || 3100);
const CAPA_BASE_URL = process.env.CAPA_BASE_URL;
const CAPA_KEY = process.env.CAPA_PARTNER_API_KEY || '';
const TOKENS = (process.env.INBOUND_API_KEYS || '').split(',').filter(Boolean).map(digest);
const MAX_BODY = 16 * 1024;
const LEASE_MS = 12_000;
const CAPA_TIMEOUT_MS = 5000;

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE || 10) });
pool.on('error', (error) => process.stderr.write(`pool error: ${error.message}\n`));
const capaUrl = new URL('/api/partner/v1/user', CAPA_BASE_URL);
const capaAgent = new http.Agent({ keepAlive: true, maxSockets: 128 });

const METHODS = new Set(['EMAIL', 'PHONE_NUMBER', 'NONE']);
const USER_TYPES = new Set(['INDIVIDUAL', 'BUSINESS']);
const ALLOWED = new Set(['externalUserId', 'method', 'identifier', 'userType', 'alias']);
const EXTERNAL_ID = /^[\x21-\x7e]{1,128}$/;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const E164 = /^\+[1-9]\d{1,14}$/;

function digest(token) {
  return createHash('sha256').update(token, 'utf8').digest();
}

function authorised(req) {
  const match = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization || '');
  if (!match) return false;
  const presented = digest(match[1]);
  return TOKENS.reduce((found, known) => timingSafeEqual(known, presented) || found, false);
}

function send(res, status, body, headers) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function fail(res, status, code, message, details) {
  send(res, status, details ? { statusCode: status, code, message, details } : { statusCode: status, code, message });
}

function toMapping(row) {
  return {
    externalUserId: row.external_user_id,
    userId: row.capa_user_id,
    status: row.status,
    method: row.method,
    identifier: row.identifier,
    userType: row.user_type,
    alias: row.alias,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.error_code !== null && row.status !== 'CREATED' ? { error: { code: row.error_code, message: row.error_message } } : {}),
  };
}

/** The service's rules, checked directly: a list of {field, message}. */
function validate(body) {
  const problems = [];
  for (const key of Object.keys(body)) if (!ALLOWED.has(key)) problems.push({ field: key, message: `property ${key} should not exist` });
  const { externalUserId, method, identifier, userType, alias } = body;
  if (typeof externalUserId !== 'string' || !EXTERNAL_ID.test(externalUserId)) {
    problems.push({ field: 'externalUserId', message: 'externalUserId must be 1..128 printable ASCII characters without whitespace' });
  }
  if (method != null && !METHODS.has(method)) problems.push({ field: 'method', message: 'method must be EMAIL, PHONE_NUMBER or NONE' });
  const absent = identifier === undefined || identifier === null;
  if (method == null) {
    if (!absent) problems.push({ field: 'identifier', message: 'identifier requires a method (EMAIL or PHONE_NUMBER)' });
  } else if (method === 'NONE') {
    if (!absent) problems.push({ field: 'identifier', message: 'identifier must be absent or null when method is NONE' });
  } else if (method === 'EMAIL') {
    if (typeof identifier !== 'string' || identifier.length > 254 || !EMAIL.test(identifier)) {
      problems.push({ field: 'identifier', message: 'identifier must be a valid email address' });
    }
  } else if (method === 'PHONE_NUMBER') {
    if (typeof identifier !== 'string' || !E164.test(identifier) || !isValidPhoneNumber(identifier)) {
      problems.push({ field: 'identifier', message: 'identifier must be a valid phone number in E.164 format' });
    }
  }
  if (userType != null && !USER_TYPES.has(userType)) problems.push({ field: 'userType', message: 'userType must be INDIVIDUAL or BUSINESS' });
  if (alias != null && (typeof alias !== 'string' || alias.length < 1 || alias.length > 120)) {
    problems.push({ field: 'alias', message: 'alias must be a string of 1..120 characters' });
  }
  return problems;
}

/** Like src/signups/signup-request.ts normaliseSignup + fingerprintOf. */
function normalise(body) {
  const method = body.method ?? 'NONE';
  let identifier = body.identifier ?? null;
  if (identifier === null || method === 'NONE') identifier = null;
  else if (method === 'EMAIL') {
    const at = identifier.lastIndexOf('@');
    identifier = `${identifier.slice(0, at)}@${identifier.slice(at + 1).toLowerCase()}`;
  } else identifier = parsePhoneNumberWithError(identifier).number;
  const fields = { externalUserId: body.externalUserId, method, identifier, userType: body.userType ?? null, alias: body.alias ?? null };
  const canonical = JSON.stringify([fields.externalUserId, fields.method, fields.identifier, fields.userType, fields.alias]);
  fields.fingerprint = createHash('sha256').update(canonical).digest('hex');
  return fields;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const SELECT = 'SELECT * FROM signups WHERE external_user_id = $1';

function answerExisting(res, row, fingerprint) {
  if (row.fingerprint !== fingerprint) {
    return fail(res, 409, 'EXTERNAL_USER_ID_CONFLICT', `externalUserId ${JSON.stringify(row.external_user_id)} is already registered with a different payload`);
  }
  if (row.status === 'CREATED') return send(res, 200, toMapping(row), { 'idempotent-replayed': 'true' });
  if (row.status === 'FAILED') return fail(res, 422, 'CAPA_REJECTED', `Capa rejected this signup: ${row.error_message ?? ''}`);
  return send(res, 202, toMapping(row), { 'retry-after': '1' });
}

async function register(req, res) {
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(req.headers['content-type'] || '')) {
    return fail(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'The body must be application/json');
  }
  const text = await readBody(req);
  if (text === null) return fail(res, 413, 'PAYLOAD_TOO_LARGE', 'The body is larger than 16 KiB');
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return fail(res, 400, 'MALFORMED_JSON', 'The body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(res, 400, 'VALIDATION_FAILED', 'Validation failed', [{ message: 'The body must be a JSON object' }]);
  }
  const problems = validate(body);
  if (problems.length > 0) return fail(res, 400, 'VALIDATION_FAILED', 'Validation failed', problems);
  const request = normalise(body);

  const existing = await pool.query(SELECT, [request.externalUserId]);
  if (existing.rows.length === 1) return answerExisting(res, existing.rows[0], request.fingerprint);

  const leaseUntil = new Date(Date.now() + LEASE_MS);
  const inserted = await pool.query(
    `INSERT INTO signups (external_user_id, status, method, identifier, user_type, alias, fingerprint, lease_owner, lease_until, next_attempt_at)
     VALUES ($1, 'PENDING', $2, $3, $4, $5, $6, 'baseline', $7, $7)
     ON CONFLICT (external_user_id) DO NOTHING RETURNING *`,
    [request.externalUserId, request.method, request.identifier, request.userType, request.alias, request.fingerprint, leaseUntil],
  );
  if (inserted.rows.length === 0) {
    const raced = await pool.query(SELECT, [request.externalUserId]);
    return answerExisting(res, raced.rows[0], request.fingerprint);
  }
  const row = inserted.rows[0];

  const capaBody = { externalUserId: row.external_user_id, method: row.method, identifier: row.identifier };
  if (row.user_type !== null) capaBody.userType = row.user_type;
  if (row.alias !== null) capaBody.alias = row.alias;
  const started = performance.now();
  const answer = await callCapa(capaBody).catch((error) => ({ status: null, json: null, error }));
  const latencyMs = Math.round(performance.now() - started);
  const userId = answer.status === 201 || answer.status === 200 ? answer.json?.data?.userId : undefined;
  await pool.query(
    `INSERT INTO capa_attempts (signup_id, at, actor, outcome, http_status, latency_ms, error_code) VALUES ($1, $2, 'request', $3, $4, $5, $6)`,
    [row.id, new Date(), userId ? 'created' : 'transient', answer.status, latencyMs, userId ? null : 'BASELINE_CAPA_ERROR'],
  );
  if (!userId) {
    // The baseline does not retry: the row stays PENDING (the lease runs out; the service's worker may finish it).
    return send(res, 202, toMapping(row), { 'retry-after': '1' });
  }
  const updated = await pool.query(
    `UPDATE signups SET status = 'CREATED', capa_user_id = $2, lease_owner = NULL, lease_until = NULL, next_attempt_at = NULL,
            error_code = NULL, error_message = NULL, attempt_count = attempt_count + 1, updated_at = now()
     WHERE id = $1 AND status = 'PENDING' RETURNING *`,
    [row.id, userId],
  );
  const settled = updated.rows[0] ?? (await pool.query(SELECT, [request.externalUserId])).rows[0];
  send(res, 201, toMapping(settled), { location: `/v1/users/${encodeURIComponent(settled.external_user_id)}` });
}

function callCapa(body) {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      capaUrl,
      {
        method: 'POST',
        agent: capaAgent,
        timeout: CAPA_TIMEOUT_MS,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'partner-api-key': CAPA_KEY },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          let json = null;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            // not JSON: treated as a failure
          }
          resolve({ status: res.statusCode, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('Capa timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function getOne(res, encodedId) {
  let externalUserId;
  try {
    externalUserId = decodeURIComponent(encodedId);
  } catch {
    return fail(res, 404, 'NOT_FOUND', 'No signup for this externalUserId');
  }
  const { rows } = await pool.query(SELECT, [externalUserId]);
  if (rows.length === 0) return fail(res, 404, 'NOT_FOUND', `No signup for externalUserId ${JSON.stringify(externalUserId)}`);
  send(res, 200, toMapping(rows[0]));
}

async function route(req, res) {
  const url = req.url || '/';
  const path = url.split('?', 1)[0];
  if (req.method === 'GET' && path === '/health/ready') {
    await pool.query('SELECT 1');
    return send(res, 200, { status: 'ok' });
  }
  if (req.method === 'POST' && path === '/webhooks/capa') return handleWebhook(pool, req, res, send);
  if (path === '/v1/users' || path.startsWith('/v1/users/')) {
    if (!authorised(req)) return fail(res, 401, 'UNAUTHORIZED', 'Missing or invalid bearer token');
    if (req.method === 'POST' && path === '/v1/users') return register(req, res);
    if (req.method === 'GET' && path.length > '/v1/users/'.length) return getOne(res, path.slice('/v1/users/'.length));
  }
  fail(res, 404, 'NOT_FOUND', `Cannot ${req.method} ${path}`);
}

const server = http.createServer((req, res) => {
  route(req, res).catch((error) => {
    process.stderr.write(`baseline error: ${error.stack || error}\n`);
    if (!res.headersSent) fail(res, 500, 'INTERNAL', 'Internal error');
    else res.destroy();
  });
});
server.keepAliveTimeout = 72_000;
server.listen(PORT, '127.0.0.1', () => process.stdout.write(`baseline listening on ${PORT}\n`));

function shutdown() {
  server.close();
  server.closeAllConnections();
  pool.end().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
// Started with an IPC channel by bench/run.js: if the harness dies, so does the baseline.
process.on('disconnect', shutdown);
