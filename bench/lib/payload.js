'use strict';
// What the load generator sends, and the matching rows the harness seeds with SQL.
// The fingerprint must equal what the service computes (src/signups/signup-request.ts fingerprintOf over the
// normalised payload); run.js checks seedFingerprintSql against the compiled service code before any load.

const { createHash } = require('node:crypto');

/** Seeded / requested external ids: `<prefix><7-digit index>`, e.g. bench-seed-0000042. */
function externalIdOf(prefix, index) {
  return prefix + String(index).padStart(7, '0');
}

/** The normalised fields of the payload for one id (emails already lower-case, so normalising changes nothing). */
function fieldsOf(externalUserId) {
  return {
    externalUserId,
    method: 'EMAIL',
    identifier: `${externalUserId}@bench.example`,
    userType: 'INDIVIDUAL',
    alias: `Bench ${externalUserId}`,
  };
}

/** The JSON body POST /v1/users receives for one id. */
function bodyOf(externalUserId) {
  return JSON.stringify(fieldsOf(externalUserId));
}

/** Same as src/signups/signup-request.ts fingerprintOf. */
function fingerprintOf(fields) {
  const canonical = JSON.stringify([fields.externalUserId, fields.method, fields.identifier, fields.userType, fields.alias]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * INSERT of CREATED rows `prefix` + lpad(i, 7) for i in [from, to), fingerprints computed by PostgreSQL:
 * sha256 over the same canonical JSON text as fingerprintOf (ids are plain ASCII without quotes or backslashes,
 * so concatenation produces exactly JSON.stringify's output).
 */
function seedSql(prefix, from, to) {
  if (!/^[a-z0-9-]+$/.test(prefix)) throw new Error(`bad seed prefix ${prefix}`);
  return `
    INSERT INTO signups (external_user_id, capa_user_id, status, method, identifier, user_type, alias, fingerprint,
                         attempt_count, created_at, updated_at)
    SELECT eid, md5(eid)::uuid::text, 'CREATED', 'EMAIL', eid || '@bench.example', 'INDIVIDUAL', 'Bench ' || eid,
           encode(sha256(convert_to('["' || eid || '","EMAIL","' || eid || '@bench.example","INDIVIDUAL","Bench ' || eid || '"]', 'UTF8')), 'hex'),
           1, now(), now()
    FROM (SELECT '${prefix}' || lpad(i::text, 7, '0') AS eid FROM generate_series(${from | 0}, ${(to | 0) - 1}) AS i) AS ids`;
}

module.exports = { externalIdOf, fieldsOf, bodyOf, fingerprintOf, seedSql };
