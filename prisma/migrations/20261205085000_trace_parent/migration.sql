-- The W3C traceparent of the request (or drive) that wrote the row, when tracing is on: a background drive of the
-- signup (worker retry, import row) or a push of the event links its span to that trace. NULL when tracing is off.
-- Nullable without a default: a metadata-only change, no table rewrite.
ALTER TABLE "signups" ADD COLUMN "trace_parent" TEXT;
ALTER TABLE "outbox_events" ADD COLUMN "trace_parent" TEXT;
