-- One Capa webhook delivery in one round trip, called in autocommit (the call is the transaction).
-- The same statements the service used to send one by one between BEGIN and COMMIT, in the same order: lock the
-- signup, read what the duplicate rule needs, then the status, the outbox rows and the inbox row. Each statement of a
-- VOLATILE PL/pgSQL function takes a new snapshot under READ COMMITTED, so the read after the lock sees the inbox
-- row of the delivery that held the lock before (one SQL statement with a locking CTE would not).
--
-- The rules stay in TypeScript (decideDelivery): the caller decides the delivery for every state this function can
-- find, in p_decisions, and this function only picks the entry for what it found:
--   {"none": D, "fresh": {"<KycStatus>": D, ...}, "duplicate": {"<KycStatus>": D, ...}}
--   D = {"outcome": text, "inboxKycStatus": KycStatus|null, "newKycStatus": KycStatus|null (null: no update),
--        "events": [{"type": text, "data"?: jsonb (absent: p_payload, the delivery as Capa sent it)}]}
-- "none": no signup (or no externalUserId); otherwise "duplicate" when the rule for p_type says so, keyed by the
-- locked signup's kyc_status. Events get the locked signup's externalUserId and Capa userId.
CREATE FUNCTION capa_record_delivery(
    p_external_user_id TEXT,
    p_type TEXT,
    p_event TEXT,
    p_sha256 TEXT,
    p_body TEXT,
    p_payload JSONB,
    p_duplicate_window_secs DOUBLE PRECISION,
    p_decisions JSONB
) RETURNS TABLE (
    inbox_id BIGINT,
    received_at TIMESTAMPTZ,
    decision_key TEXT,
    signup_id BIGINT,
    capa_user_id TEXT,
    previous_kyc_status TEXT
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
BEGIN
    IF p_external_user_id IS NOT NULL THEN
        SELECT s.id, s.capa_user_id, s.kyc_status::text INTO v_signup_id, v_capa_user_id, v_kyc_status
        FROM signups s WHERE s.external_user_id = p_external_user_id FOR UPDATE;
    END IF;
    IF v_signup_id IS NULL THEN
        v_decision := p_decisions -> 'none';
    ELSE
        IF p_type = 'KYC' THEN
            -- Identical to the latest KYC body received for this user (index capa_webhook_inbox_external_user_id_type_id_idx).
            v_duplicate := coalesce((SELECT w.sha256 FROM capa_webhook_inbox w
                                     WHERE w.external_user_id = p_external_user_id AND w.type = 'KYC'
                                     ORDER BY w.id DESC LIMIT 1) = p_sha256, false);
        ELSIF p_type = 'TRANSACTION' THEN
            -- Identical to a body received within the window, by the database's clock.
            v_duplicate := EXISTS (SELECT 1 FROM capa_webhook_inbox w
                                   WHERE w.sha256 = p_sha256 AND w.received_at > now() - make_interval(secs => p_duplicate_window_secs));
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
    INSERT INTO capa_webhook_inbox (sha256, body, outcome, type, event, external_user_id, signup_id, kyc_status)
    VALUES (p_sha256, p_body, v_decision ->> 'outcome', p_type, p_event, p_external_user_id, v_signup_id,
            (v_decision ->> 'inboxKycStatus')::"KycStatus")
    RETURNING capa_webhook_inbox.id, capa_webhook_inbox.received_at, v_key, v_signup_id, v_capa_user_id, v_kyc_status;
END;
$$;
