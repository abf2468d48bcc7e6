-- The timeline's operator.action items: the audit rows about one user (target 'user:<externalUserId>') newest first,
-- on the millisecond keys every other timeline source has (audit_log.at is microsecond-precise; the cast is immutable).
CREATE INDEX audit_log_target_at_ms_idx ON audit_log (target, (at::timestamptz(3)), id);
