-- Every change to a CREATED signup (its mapping: KYC status, an operator's resolve, an erasure, a delete) notifies
-- the channel `mapping_changed` with its externalUserId, inside the changing transaction: PostgreSQL delivers it to
-- every listening replica at commit, and each drops its cached answer. Signups that are not CREATED are never cached,
-- so the hot path of a new signup (PENDING -> CREATED) sends nothing.
CREATE FUNCTION signups_notify_mapping_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mapping_changed', OLD.external_user_id);
  RETURN NULL;
END;
$$;

CREATE TRIGGER signups_mapping_changed_on_update
  AFTER UPDATE ON signups FOR EACH ROW WHEN (OLD.status = 'CREATED')
  EXECUTE FUNCTION signups_notify_mapping_changed();

CREATE TRIGGER signups_mapping_changed_on_delete
  AFTER DELETE ON signups FOR EACH ROW WHEN (OLD.status = 'CREATED')
  EXECUTE FUNCTION signups_notify_mapping_changed();
