import type { EventOf } from './event.types';

export type SignupSettledEvent = EventOf<'signup.created'> | EventOf<'signup.failed'> | EventOf<'signup.needs_attention'>;

const TYPE_FOR_STATUS = { CREATED: 'signup.created', FAILED: 'signup.failed', NEEDS_ATTENTION: 'signup.needs_attention' } as const;

/**
 * The event a signup settled in `status` emits: CREATED -> signup.created, FAILED -> signup.failed, NEEDS_ATTENTION ->
 * signup.needs_attention (with Capa's last error); PENDING (a retry is due) emits none.
 */
export function signupSettled(status: string, errorCode: string | null = null, errorMessage: string | null = null): SignupSettledEvent | null {
  if (status !== 'CREATED' && status !== 'FAILED' && status !== 'NEEDS_ATTENTION') return null;
  const error = status === 'CREATED' || errorCode === null ? null : { code: errorCode, message: errorMessage };
  return { type: TYPE_FOR_STATUS[status], data: { status, error } } as SignupSettledEvent;
}

/** The JSON parameter for outboxInsertForSettled: the event, or none. */
export function settledEventsParam(event: SignupSettledEvent | null): string {
  return JSON.stringify(event === null ? [] : [event]);
}

/**
 * The outbox INSERT for the events (`[{type, data}]`, built by signupSettled) in the JSON parameter `param`, for each
 * row of the CTE `settled` (rows under SIGNUP_COLUMNS' names): none when the settle statement changed no row. Spliced
 * into the settle statements as a data-modifying CTE, so the change and its event commit together in one round trip:
 * `WITH settled AS (UPDATE signups ... RETURNING ...), event AS (${outboxInsertForSettled('$5')}) SELECT * FROM settled`.
 * The event keeps the signup's traceparent: its pushes link to the request that registered the user.
 */
export function outboxInsertForSettled(param: string): string {
  return `
  INSERT INTO outbox_events (type, external_user_id, user_id, data, occurred_at, trace_parent)
  SELECT e.type, s."externalUserId", s."userId", e.data, s."updatedAt", s."traceParent"
  FROM settled s CROSS JOIN jsonb_to_recordset(${param}::jsonb) AS e(type text, data jsonb)`;
}
