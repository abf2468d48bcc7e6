-- As the 12-argument capa_record_delivery of 20261205080000_reconciliation, with one change: the events a delivery
-- writes keep the webhook request's W3C traceparent, which the caller puts beside the plan as p_decisions.traceParent
-- when tracing is on (absent: NULL), so their pushes link to the intake's trace. Same signature; the 9-argument
-- function of earlier builds (kept for rolling deploys) is left as it was.
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
    INSERT INTO outbox_events (type, external_user_id, user_id, data, occurred_at, trace_parent)
    SELECT e ->> 'type', p_external_user_id, v_capa_user_id, coalesce(e -> 'data', p_payload), now(), p_decisions ->> 'traceParent'
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
