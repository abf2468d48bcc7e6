-- Transactional outbox: one row per event, written in the transaction of the change it reports.
-- The feed is read in commit order, (writer_xid, position), exposing only transactions below the reader's
-- snapshot xmin: a position alone is handed out before commit, so a plain sequence cursor skips late commits.
CREATE TABLE "outbox_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "position" BIGSERIAL NOT NULL,
    "writer_xid" XID8 NOT NULL DEFAULT pg_current_xact_id(),
    "type" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "external_user_id" TEXT NOT NULL,
    "user_id" TEXT,
    "data" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- The feed, its type filter, and retention's oldest-first scan.
CREATE UNIQUE INDEX "outbox_events_feed_idx" ON "outbox_events" ("writer_xid", "position");
CREATE INDEX "outbox_events_type_feed_idx" ON "outbox_events" ("type", "writer_xid", "position");
CREATE INDEX "outbox_events_occurred_at_idx" ON "outbox_events" ("occurred_at");

-- One row per configured webhook endpoint: how far along the feed its deliveries have been scheduled.
CREATE TABLE "event_endpoints" (
    "url" TEXT NOT NULL,
    "cursor_xid" XID8 NOT NULL,
    "cursor_position" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_endpoints_pkey" PRIMARY KEY ("url")
);

-- One row per (event, endpoint): its retry state. Created by the deliverer as it follows the feed, not by the writer.
CREATE TABLE "event_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "give_up_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT,
    "last_attempt_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "event_deliveries_status_check" CHECK ("status" IN ('PENDING', 'DELIVERED', 'FAILED')),
    CONSTRAINT "event_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "outbox_events" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "event_deliveries_event_id_endpoint_key" ON "event_deliveries" ("event_id", "endpoint");
-- The deliverer's pick: due PENDING deliveries of one endpoint.
CREATE INDEX "event_deliveries_due_idx" ON "event_deliveries" ("endpoint", "next_attempt_at") WHERE "status" = 'PENDING';
-- Operators' list, newest first, by status.
CREATE INDEX "event_deliveries_status_id_idx" ON "event_deliveries" ("status", "id");
