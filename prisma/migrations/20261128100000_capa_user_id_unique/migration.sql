-- One Capa userId belongs to at most one externalUserId: a unique index, not a check before the write.
-- Partial (settled rows only hold one), so the many PENDING/FAILED rows without an id cost nothing.
-- If this fails on an existing database, two signups hold the same Capa userId: an operator must decide which.
DROP INDEX IF EXISTS "signups_capa_user_id_idx";
CREATE UNIQUE INDEX "signups_capa_user_id_key" ON "signups"("capa_user_id") WHERE "capa_user_id" IS NOT NULL;

-- Every userId Capa answered is kept on its attempt row, also when the signup already holds another one.
ALTER TABLE "capa_attempts" ADD COLUMN "capa_user_id" TEXT;
