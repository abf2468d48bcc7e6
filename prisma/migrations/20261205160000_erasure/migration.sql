-- Personal data erasure (GDPR art. 17, DESIGN.md): when a signup's identifier and alias were erased, and the random
-- per-row salt its payload fingerprint is re-computed with at erasure (so a replay of the original payload still
-- matches, while a guessed identifier cannot be confirmed against many rows with one hash).
ALTER TABLE signups
    ADD COLUMN erased_at TIMESTAMPTZ(3),
    ADD COLUMN fingerprint_salt TEXT;

-- The fingerprint a stored row is compared with: the payload's own (no salt), or SHA-256 of salt || fingerprint after an
-- erasure. The same rule as saltedFingerprint() in src/signups/signup-request.ts (the import path compares in SQL).
CREATE FUNCTION signup_fingerprint(p_fingerprint TEXT, p_salt TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_salt IS NULL THEN p_fingerprint ELSE encode(sha256(convert_to(p_salt || p_fingerprint, 'UTF8')), 'hex') END
$$;

-- An erasure reads one user's import row errors by externalUserId (an import may hold a million of them).
CREATE INDEX import_row_errors_external_user_id_idx ON import_row_errors (external_user_id);
