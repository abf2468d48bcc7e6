-- Whether a signup's Capa call was ever started, as a fact: written and committed by the drive that holds the lease,
-- before its HTTP request leaves. An import cancel withdraws only rows where this is NULL, so a row whose call a
-- draining replica cut off (no attempt recorded yet, lease released) is never deleted while Capa may have created
-- the user.
ALTER TABLE signups ADD COLUMN call_started_at TIMESTAMPTZ(3);
