-- An upload is staged in its own session's temporary tables (nothing shared is locked or uncommitted while it
-- streams), then moved into signups in short transactions. While it moves, its import is STAGING: not listed, not
-- found, not completed, not cancellable; it becomes RUNNING (or COMPLETED) once every row has moved.
ALTER TYPE "ImportStatus" ADD VALUE IF NOT EXISTS 'STAGING';
