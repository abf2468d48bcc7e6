-- The event horizon: how far the feed and push delivery may read. An event is exposed once every transaction that
-- could still commit an event before it has ended. That used to be the snapshot's xmin: any long writing transaction
-- on the server held every new event back for its length, be it a 1,000,000-row import upload (about a minute) or a
-- transaction in another database of the same PostgreSQL server (transaction ids are server-wide).
--
-- The horizon now looks past the in-progress transactions that cannot write an event:
-- - those of another database (pg_stat_activity names their database; one it cannot name, such as a prepared
--   transaction or a session it may not see, is not looked past);
-- - those registered here as writing no events. A transaction registers its xid from another connection, committed,
--   before it writes anything (an import's upload does). A trigger holds registered transactions to their word: an
--   outbox insert from one fails.
-- The horizon is the oldest in-progress transaction left (this session's own included), or the snapshot's xmax when
-- there is none: every transaction below it has ended or cannot write an event.
--
-- Rows of transactions that have ended are harmless (the horizon only looks at transactions in progress) and are
-- swept by the next registration.
CREATE TABLE event_horizon_exempt (
    xid xid8 PRIMARY KEY,
    reason TEXT NOT NULL,
    registered_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);

CREATE FUNCTION capa_event_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $$
  SELECT least(
    coalesce(
      (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
        WHERE NOT EXISTS (SELECT 1 FROM event_horizon_exempt e WHERE e.xid = x)
          AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                          WHERE a.backend_xid = x::xid
                            AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))),
      pg_snapshot_xmax(pg_current_snapshot())),
    pg_current_xact_id_if_assigned())
$$;

CREATE FUNCTION capa_outbox_exempt_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM event_horizon_exempt WHERE xid = pg_current_xact_id_if_assigned()) THEN
    RAISE EXCEPTION 'transaction % is registered in event_horizon_exempt as writing no events: it may not write to outbox_events',
      pg_current_xact_id_if_assigned();
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_events_exempt_guard BEFORE INSERT ON outbox_events
  FOR EACH STATEMENT EXECUTE FUNCTION capa_outbox_exempt_guard();
