-- As 20261205040000_webhook_dedupe_key, with one change: the events a delivery writes keep the webhook request's W3C
-- traceparent, which the caller puts beside the plan as p_decisions.traceParent when tracing is on (absent: NULL), so
-- their pushes link to the intake's trace. Same signature: a replica of the previous build keeps calling it unchanged.
CREATE OR REPLACE FUNCTION capa_record_delivery(
    p_external_user_id TEXT,
    p_type TEXT,
    p_event TEXT,
    p_sha256 TEXT,
    p_dedupe_sha256 TEXT,
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
            v_duplicate := coalesce((SELECT coalesce(w.dedupe_sha256, w.sha256) FROM capa_webhook_inbox w
                                     WHERE w.external_user_id = p_external_user_id AND w.type = 'KYC'
                                     ORDER BY w.id DESC LIMIT 1) = p_dedupe_sha256, false);
        ELSIF p_type = 'TRANSACTION' THEN
            -- Identical to a body received within the window, by the database's clock (capa_webhook_inbox_dedupe_idx).
            v_duplicate := EXISTS (SELECT 1 FROM capa_webhook_inbox w
                                   WHERE coalesce(w.dedupe_sha256, w.sha256) = p_dedupe_sha256
                                     AND w.received_at > now() - make_interval(secs => p_duplicate_window_secs));
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
    INSERT INTO outbox_events (type, external_user_id, user_id, data, occurred_at, trace_parent)
    SELECT e ->> 'type', p_external_user_id, v_capa_user_id, coalesce(e -> 'data', p_payload), now(), p_decisions ->> 'traceParent'
    FROM jsonb_array_elements(coalesce(v_decision -> 'events', '[]'::jsonb)) AS e
    WHERE v_signup_id IS NOT NULL;

    RETURN QUERY
    INSERT INTO capa_webhook_inbox (sha256, dedupe_sha256, body, outcome, type, event, external_user_id, signup_id, kyc_status)
    VALUES (p_sha256, p_dedupe_sha256, p_body, v_decision ->> 'outcome', p_type, p_event, p_external_user_id, v_signup_id,
            (v_decision ->> 'inboxKycStatus')::"KycStatus")
    RETURNING capa_webhook_inbox.id, capa_webhook_inbox.received_at, v_key, v_signup_id, v_capa_user_id, v_kyc_status;
END;
$$;
