/**
 * The outbox INSERT for signups settled by the same statement: one event per row of the CTE `settled` (rows under
 * SIGNUP_COLUMNS' names) whose new status is final. Spliced into the settle statements as a data-modifying CTE, so
 * the change and its event commit together in one round trip:
 * `WITH settled AS (UPDATE signups ... RETURNING ...), event AS (${SIGNUP_EVENTS_FROM_SETTLED}) SELECT * FROM settled`.
 * CREATED -> signup.created, FAILED -> signup.failed, NEEDS_ATTENTION -> signup.needs_attention; PENDING: none.
 * The event keeps the signup's traceparent: its pushes link to the request that registered the user.
 */
export const SIGNUP_EVENTS_FROM_SETTLED = `
  INSERT INTO outbox_events (type, external_user_id, user_id, data, occurred_at, trace_parent)
  SELECT 'signup.' || lower(status), "externalUserId", "capaUserId",
         jsonb_build_object('status', status, 'error',
           CASE WHEN status = 'CREATED' OR "errorCode" IS NULL THEN NULL
                ELSE jsonb_build_object('code', "errorCode", 'message', "errorMessage") END),
         "updatedAt", "traceParent"
  FROM settled WHERE status <> 'PENDING'`;
