-- Reconciliation with Capa's notifications (DESIGN.md): inbox entries taken in from Capa's notification API
-- (`source` reconciled, Capa's `notification_id`, at most once), the redeliveries a manual retry will cause, the
-- reconciler's totals and pace, and when a user's KYC status was last polled from Capa's details endpoint.

-- A constant default fills every existing row without rewriting the table (PostgreSQL 11+).
ALTER TABLE capa_webhook_inbox
    ADD COLUMN source TEXT NOT NULL DEFAULT 'webhook',
    ADD COLUMN notification_id TEXT,
    -- Why the outcome, when the outcome alone does not say (`redelivery`: a duplicate a manual retry caused).
    ADD COLUMN outcome_reason TEXT,
    -- SHA-256 of the parsed body as jsonb text (PostgreSQL's normal form): equal JSON values, equal keys.
    ADD COLUMN content_sha256 TEXT;
CREATE UNIQUE INDEX capa_webhook_inbox_notification_id_key ON capa_webhook_inbox (notification_id);
CREATE INDEX capa_webhook_inbox_content_idx ON capa_webhook_inbox (content_sha256, received_at);
CREATE INDEX capa_webhook_inbox_source_id_idx ON capa_webhook_inbox (source, id DESC);

-- One redelivery expected per accepted manual retry: the next signed delivery of that JSON value for that user within
-- an hour is stored as `duplicate` (reason `redelivery`) and never applied again.
CREATE TABLE capa_expected_redeliveries (
    id BIGSERIAL PRIMARY KEY,
    notification_id TEXT NOT NULL,
    external_user_id TEXT,
    content_sha256 TEXT NOT NULL,
    expected_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE INDEX capa_expected_redeliveries_content_idx ON capa_expected_redeliveries (content_sha256, expected_at);

-- Every manual retry call made to Capa, whatever its answer, by the database's clock: the 10-a-minute cap.
CREATE TABLE capa_notification_retry_calls (
    id BIGSERIAL PRIMARY KEY,
    notification_id TEXT NOT NULL,
    called_at TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    outcome TEXT
);
CREATE INDEX capa_notification_retry_calls_called_at_idx ON capa_notification_retry_calls (called_at);
CREATE INDEX capa_notification_retry_calls_notification_idx ON capa_notification_retry_calls (notification_id);

-- Distinct FAILED notification ids ever listed (the `seen` total).
CREATE TABLE capa_notifications_seen (
    notification_id TEXT PRIMARY KEY,
    first_seen_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

-- The reconciler's totals over all replicas, its latest run, its lease and its pace (one row).
CREATE TABLE capa_reconcile_state (
    id SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    last_run_at TIMESTAMPTZ(3),
    last_error TEXT,
    seen BIGINT NOT NULL DEFAULT 0,
    applied BIGINT NOT NULL DEFAULT 0,
    duplicate BIGINT NOT NULL DEFAULT 0,
    retried BIGINT NOT NULL DEFAULT 0,
    retry_refused BIGINT NOT NULL DEFAULT 0,
    polled BIGINT NOT NULL DEFAULT 0,
    -- A 429 pauses retry calls for 60 s.
    retry_paused_until TIMESTAMPTZ(3),
    -- The latest details call of the poll fallback (KYC_POLL_RPS across replicas).
    last_poll_at TIMESTAMPTZ(3),
    -- The run in progress: one replica at a time, by the database's clock. A lease row rather than a session advisory
    -- lock, so a run holds no connection (the embedded database has one) and a crashed run's lease simply expires.
    lease_owner TEXT,
    lease_until TIMESTAMPTZ(3)
);
INSERT INTO capa_reconcile_state (id) VALUES (1);

ALTER TABLE signups ADD COLUMN kyc_polled_at TIMESTAMPTZ(3);
-- The poll fallback's candidates: non-terminal KYC statuses only.
CREATE INDEX signups_kyc_poll_idx ON signups (kyc_updated_at) WHERE kyc_status IN ('IN_PROGRESS', 'REVIEW_NEEDED');

-- As 20261205040000_webhook_dedupe_key, plus where the entry came from. p_content is the parsed body (null when not
-- a JSON object). A reconciled entry (p_notification_id) compares JSON values for the duplicate rule; a signed delivery
-- keeps comparing the verified bytes, and is a `redelivery` duplicate when a manual retry announced its value.
-- The 9-argument function stays for a replica still running the previous build (rolling deploy).
CREATE OR REPLACE FUNCTION capa_record_delivery(
    p_external_user_id TEXT,
    p_type TEXT,
    p_event TEXT,
    p_sha256 TEXT,
    p_dedupe_sha256 TEXT,
    p_body TEXT,
    p_payload JSONB,
    p_duplicate_window_secs DOUBLE PRECISION,
    p_decisions JSONB,
    p_source TEXT,
    p_notification_id TEXT,
    p_content JSONB
) RETURNS TABLE (
    inbox_id BIGINT,
    received_at TIMESTAMPTZ,
    decision_key TEXT,
    signup_id BIGINT,
    capa_user_id TEXT,
    previous_kyc_status TEXT,
    outcome_reason TEXT
)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_signup_id BIGINT;
    v_capa_user_id TEXT;
    v_kyc_status TEXT;
    v_duplicate BOOLEAN := false;
    v_key TEXT := 'none';
    v_decision JSONB;
    v_reason TEXT;
    v_content_sha TEXT := CASE WHEN p_content IS NULL THEN NULL ELSE encode(sha256(convert_to(p_content::text, 'UTF8')), 'hex') END;
    v_reconciled BOOLEAN := p_notification_id IS NOT NULL;
BEGIN
    IF p_external_user_id IS NOT NULL THEN
        SELECT s.id, s.capa_user_id, s.kyc_status::text INTO v_signup_id, v_capa_user_id, v_kyc_status
        FROM signups s WHERE s.external_user_id = p_external_user_id FOR UPDATE;
    END IF;
    -- A notification taken in already (by another replica meanwhile): nothing is written.
    IF v_reconciled AND EXISTS (SELECT 1 FROM capa_webhook_inbox w WHERE w.notification_id = p_notification_id) THEN
        RETURN QUERY SELECT w.id, w.received_at, 'taken'::text, w.signup_id, v_capa_user_id, v_kyc_status, w.outcome_reason
                     FROM capa_webhook_inbox w WHERE w.notification_id = p_notification_id;
        RETURN;
    END IF;
    IF NOT v_reconciled AND v_content_sha IS NOT NULL THEN
        DELETE FROM capa_expected_redeliveries e
        WHERE e.id = (SELECT x.id FROM capa_expected_redeliveries x
                      WHERE x.content_sha256 = v_content_sha AND x.external_user_id IS NOT DISTINCT FROM p_external_user_id
                        AND x.expected_at > now() - make_interval(secs => p_duplicate_window_secs)
                      ORDER BY x.id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING 'redelivery' INTO v_reason;
    END IF;
    IF v_reason IS NOT NULL THEN
        v_key := CASE WHEN v_signup_id IS NULL THEN 'none' ELSE 'duplicate' END;
        v_decision := jsonb_build_object('outcome', 'duplicate', 'inboxKycStatus', CASE WHEN p_type = 'KYC' THEN v_kyc_status END);
    ELSIF v_signup_id IS NULL THEN
        v_decision := p_decisions -> 'none';
    ELSE
        IF p_type = 'KYC' THEN
            -- The latest KYC body received for this user (index capa_webhook_inbox_external_user_id_type_id_idx).
            v_duplicate := coalesce((SELECT CASE WHEN v_reconciled AND w.content_sha256 IS NOT NULL THEN w.content_sha256 = v_content_sha
                                                 ELSE coalesce(w.dedupe_sha256, w.sha256) = p_dedupe_sha256 END
                                     FROM capa_webhook_inbox w
                                     WHERE w.external_user_id = p_external_user_id AND w.type = 'KYC'
                                     ORDER BY w.id DESC LIMIT 1), false);
        ELSIF p_type = 'TRANSACTION' THEN
            -- Identical to a body received within the window, by the database's clock.
            v_duplicate := EXISTS (SELECT 1 FROM capa_webhook_inbox w
                                   WHERE coalesce(w.dedupe_sha256, w.sha256) = p_dedupe_sha256
                                     AND w.received_at > now() - make_interval(secs => p_duplicate_window_secs))
                OR (v_reconciled AND EXISTS (SELECT 1 FROM capa_webhook_inbox w
                                             WHERE w.content_sha256 = v_content_sha
                                               AND w.received_at > now() - make_interval(secs => p_duplicate_window_secs)));
        END IF;
        v_key := CASE WHEN v_duplicate THEN 'duplicate' ELSE 'fresh' END;
        v_decision := p_decisions -> v_key -> v_kyc_status;
    END IF;
    IF v_decision IS NULL THEN
        RAISE EXCEPTION 'capa_record_delivery: no decision for % / %', v_key, v_kyc_status;
    END IF;

    IF v_decision ->> 'newKycStatus' IS NOT NULL THEN
        UPDATE signups SET kyc_status = (v_decision ->> 'newKycStatus')::"KycStatus", kyc_updated_at = now() WHERE id = v_signup_id;
    END IF;
    INSERT INTO outbox_events (type, external_user_id, user_id, data, occurred_at)
    SELECT e ->> 'type', p_external_user_id, v_capa_user_id, coalesce(e -> 'data', p_payload), now()
    FROM jsonb_array_elements(coalesce(v_decision -> 'events', '[]'::jsonb)) AS e
    WHERE v_signup_id IS NOT NULL;

    RETURN QUERY
    INSERT INTO capa_webhook_inbox (sha256, dedupe_sha256, body, outcome, type, event, external_user_id, signup_id, kyc_status,
                                    source, notification_id, outcome_reason, content_sha256)
    VALUES (p_sha256, p_dedupe_sha256, p_body, v_decision ->> 'outcome', p_type, p_event, p_external_user_id, v_signup_id,
            (v_decision ->> 'inboxKycStatus')::"KycStatus", p_source, p_notification_id, v_reason, v_content_sha)
    RETURNING capa_webhook_inbox.id, capa_webhook_inbox.received_at, v_key, v_signup_id, v_capa_user_id, v_kyc_status, v_reason;
END;
$$;
