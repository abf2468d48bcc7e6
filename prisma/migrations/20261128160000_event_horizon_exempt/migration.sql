-- The event horizon: how far the feed and push delivery may read. An event is exposed once every transaction that
-- could still commit an event before it has ended. That used to be the snapshot's xmin: any long writing transaction
-- on the server (a 1,000,000-row import upload runs for about a minute) held every new event back for its length.
--
-- A transaction that writes no events can say so: it registers its xid here, from another connection, before it
-- writes anything. The horizon is then the oldest in-progress transaction that is not registered (this session's own
-- included), or the snapshot's xmax when there is none: every transaction below it has ended or writes no events.
-- A trigger holds registered transactions to their word: an outbox insert from one fails.
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
        WHERE NOT EXISTS (SELECT 1 FROM event_horizon_exempt e WHERE e.xid = x)),
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
