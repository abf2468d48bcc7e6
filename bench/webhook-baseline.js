'use strict';
// The raw floor for POST /webhooks/capa (used by bench/baseline-server.js): the same work as the service, by hand.
// Body up to 64 KiB, signature over the raw bytes then JSON.stringify(JSON.parse(raw)) against every secret (constant
// time), SHA-256, then one transaction: lock the signup, read the latest KYC body's hash, apply the status rule, insert
// the inbox row. 200 {id, outcome}.

const { createHash, createHmac, timingSafeEqual } = require('node:crypto');

const MAX_BODY = 64 * 1024;
const SECRETS = (process.env.CAPA_WEBHOOK_SECRETS || '').split(',').map((s) => s.trim()).filter(Boolean);
const EVENT_STATUS = { CREATED_KYC: 'IN_PROGRESS', REVIEW_NEEDED_KYC: 'REVIEW_NEEDED', VERIFIED_USER: 'VERIFIED', REJECTED_KYC: 'REJECTED' };

function readRaw(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function signed(raw, header) {
  if (typeof header !== 'string' || !/^[0-9a-fA-F]{64}$/.test(header)) return false;
  const presented = Buffer.from(header.toLowerCase(), 'hex');
  const payloads = [raw];
  try {
    payloads.push(JSON.stringify(JSON.parse(raw.toString('utf8'))));
  } catch {
    // not JSON: only the raw reading
  }
  let matched = false;
  for (const secret of SECRETS) {
    for (const payload of payloads) if (timingSafeEqual(createHmac('sha256', secret).update(payload).digest(), presented)) matched = true;
  }
  return matched;
}

async function handleWebhook(pool, req, res, send) {
  const raw = await readRaw(req);
  if (raw === null) return send(res, 413, { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', message: 'too large' });
  if (!signed(raw, req.headers['capa-signature'])) return send(res, 401, { statusCode: 401, code: 'INVALID_SIGNATURE', message: 'bad signature' });
  const sha256 = createHash('sha256').update(raw).digest('hex');
  let body = null;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    body = null;
  }
  const type = body && typeof body.type === 'string' ? body.type : null;
  const event = body && typeof body.event === 'string' ? body.event : null;
  const externalUserId = body && typeof body.externalUserId === 'string' ? body.externalUserId : null;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let outcome = body === null ? 'unreadable' : 'unmatched';
    let signupId = null;
    let kycStatus = null;
    if (type === 'KYC' && externalUserId !== null) {
      const locked = await client.query('SELECT id, kyc_status::text AS kyc_status FROM signups WHERE external_user_id = $1 FOR UPDATE', [externalUserId]);
      const signup = locked.rows[0];
      const next = EVENT_STATUS[event];
      if (signup !== undefined && next !== undefined) {
        signupId = signup.id;
        kycStatus = signup.kyc_status;
        const latest = await client.query(`SELECT sha256 FROM capa_webhook_inbox WHERE external_user_id = $1 AND type = 'KYC' ORDER BY id DESC LIMIT 1`, [externalUserId]);
        if (latest.rows[0]?.sha256 === sha256) outcome = 'duplicate';
        else if (kycStatus === 'VERIFIED' && (event === 'CREATED_KYC' || event === 'REVIEW_NEEDED_KYC')) outcome = 'ignored';
        else {
          outcome = 'applied';
          kycStatus = next;
          await client.query(`UPDATE signups SET kyc_status = $2::"KycStatus", kyc_updated_at = now() WHERE id = $1`, [signupId, next]);
        }
      }
    }
    const inserted = await client.query(
      `INSERT INTO capa_webhook_inbox (sha256, body, outcome, type, event, external_user_id, signup_id, kyc_status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::"KycStatus") RETURNING id::text AS id`,
      [sha256, raw.toString('utf8'), outcome, type, event, externalUserId, signupId, type === 'KYC' ? kycStatus : null],
    );
    await client.query('COMMIT');
    send(res, 200, { id: inserted.rows[0].id, outcome });
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

module.exports = { handleWebhook };
