-- Operators are people: an append-only audit log of every admin write and sign-in/out, and server-side sessions of
-- the operators who signed in at the identity provider (OpenID Connect).

CREATE TABLE audit_log (
  id          BIGSERIAL PRIMARY KEY,
  at          TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor_sub   TEXT NOT NULL,
  actor_name  TEXT,
  actor_email TEXT,
  actor_via   TEXT NOT NULL CHECK (actor_via IN ('oidc', 'jwt', 'api-key')),
  action      TEXT NOT NULL,
  target      TEXT,
  outcome     TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'denied')),
  request_id  TEXT,
  details     JSONB NOT NULL DEFAULT '{}'::jsonb
);

-- GET /admin/audit: newest first, each exact-match filter keyed with the id for keyset pagination.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_sub, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log (target, id);

-- Append-only for every role, the owner and superusers included. Statement-level, so an UPDATE or DELETE that
-- matches no row is refused too. ENABLE ALWAYS: the trigger also fires with session_replication_role = replica.
-- Retention, if ever, is a documented manual procedure that drops this trigger first (README).
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;

-- Operator sessions (cookie-authenticated). Only a SHA-256 of the session id is stored; replicas share the table.
CREATE TABLE admin_sessions (
  id_hash      BYTEA PRIMARY KEY,
  sub          TEXT NOT NULL,
  name         TEXT,
  email        TEXT,
  roles        TEXT[] NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX admin_sessions_expires_at_idx ON admin_sessions (expires_at);
