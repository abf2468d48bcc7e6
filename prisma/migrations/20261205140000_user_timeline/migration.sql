-- One user's timeline (GET /admin/users/{externalUserId}/timeline): every source is read by user, newest first, on
-- (time, id) keys, so a page is one short index range scan per source whatever the user's history holds.

-- Capa attempts, and the verification links issued among them (the link itself is never stored; its country is).
ALTER TABLE capa_attempts ADD COLUMN country TEXT;
CREATE INDEX capa_attempts_signup_id_at_id_idx ON capa_attempts (signup_id, at, id);
CREATE INDEX capa_attempts_link_issued_idx ON capa_attempts (signup_id, at, id)
  WHERE operation IN ('kyc-link', 'kyb-link') AND outcome = 'answered';

-- A signup's status changes, written by a trigger so every writer (settle statements, resolve, retry, a corrected
-- re-submission, imports) is covered in its own transaction. from_status NULL: not recorded (rows from before this).
CREATE TABLE signup_status_changes (
  id          BIGSERIAL PRIMARY KEY,
  signup_id   BIGINT NOT NULL REFERENCES signups (id) ON DELETE CASCADE,
  at          TIMESTAMPTZ(3) NOT NULL,
  from_status "SignupStatus",
  to_status   "SignupStatus" NOT NULL
);
CREATE INDEX signup_status_changes_signup_id_at_id_idx ON signup_status_changes (signup_id, at, id);

CREATE FUNCTION signup_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO signup_status_changes (signup_id, at, from_status, to_status)
  VALUES (NEW.id, coalesce(NEW.updated_at, now()), OLD.status, NEW.status);
  RETURN NULL;
END
$$;

CREATE TRIGGER signups_status_history AFTER UPDATE OF status ON signups
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION signup_status_changed();

-- The settled statuses the outbox still holds are the history before this migration (the status before is unknown).
INSERT INTO signup_status_changes (signup_id, at, from_status, to_status)
SELECT s.id, e.occurred_at, NULL, (e.data ->> 'status')::"SignupStatus"
FROM outbox_events e JOIN signups s ON s.external_user_id = e.external_user_id
WHERE e.type IN ('signup.created', 'signup.failed', 'signup.needs_attention')
ORDER BY e.occurred_at, e.position;

-- Inbox entries and outbox events by user in time order.
CREATE INDEX capa_webhook_inbox_user_time_idx ON capa_webhook_inbox (external_user_id, received_at, id);
CREATE INDEX outbox_events_user_time_idx ON outbox_events (external_user_id, occurred_at, position);
CREATE INDEX outbox_events_user_kyc_idx ON outbox_events (external_user_id, occurred_at, position)
  WHERE type = 'kyc.status_changed';

-- Event deliveries: the user on the delivery row (whose delivered_at is its acknowledged attempt), and the attempts
-- that row no longer shows: every failed push, and an acknowledged one an operator's redelivery reset.
ALTER TABLE event_deliveries ADD COLUMN external_user_id TEXT;
UPDATE event_deliveries d SET external_user_id = e.external_user_id FROM outbox_events e WHERE e.id = d.event_id;
CREATE INDEX event_deliveries_delivered_user_idx ON event_deliveries (external_user_id, delivered_at, id)
  WHERE status = 'DELIVERED';

CREATE TABLE event_delivery_attempts (
  id               BIGSERIAL PRIMARY KEY,
  delivery_id      BIGINT NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
  external_user_id TEXT,
  attempt          INT NOT NULL,
  at               TIMESTAMPTZ(3) NOT NULL,
  outcome          TEXT NOT NULL,
  http_status      INT,
  error            TEXT
);
CREATE INDEX event_delivery_attempts_user_time_idx ON event_delivery_attempts (external_user_id, at, id);
CREATE INDEX event_delivery_attempts_delivery_id_idx ON event_delivery_attempts (delivery_id);
