-- CreateEnum
CREATE TYPE "SignupStatus" AS ENUM ('PENDING', 'CREATED', 'FAILED', 'NEEDS_ATTENTION');

-- CreateTable
CREATE TABLE "signups" (
    "id" BIGSERIAL NOT NULL,
    "external_user_id" TEXT NOT NULL,
    "capa_user_id" TEXT,
    "status" "SignupStatus" NOT NULL,
    "method" TEXT NOT NULL,
    "identifier" TEXT,
    "user_type" TEXT,
    "alias" TEXT,
    "fingerprint" TEXT NOT NULL,
    "error_code" TEXT,
    "error_message" TEXT,
    "attempt_count" INTEGER NOT NULL DEFAULT 0,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "signups_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "capa_attempts" (
    "id" BIGSERIAL NOT NULL,
    "signup_id" BIGINT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "http_status" INTEGER,
    "latency_ms" INTEGER NOT NULL,
    "error_code" TEXT,
    "error_message" TEXT,

    CONSTRAINT "capa_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "signups_external_user_id_key" ON "signups"("external_user_id");

-- CreateIndex
CREATE INDEX "signups_capa_user_id_idx" ON "signups"("capa_user_id");

-- CreateIndex
CREATE INDEX "signups_identifier_idx" ON "signups"("identifier");

-- CreateIndex
CREATE INDEX "capa_attempts_signup_id_id_idx" ON "capa_attempts"("signup_id", "id");

-- AddForeignKey
ALTER TABLE "capa_attempts" ADD CONSTRAINT "capa_attempts_signup_id_fkey" FOREIGN KEY ("signup_id") REFERENCES "signups"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written below: indexes that are not in schema.prisma (a partial index, an
-- operator class, a descending keyset index). `prisma migrate dev/diff` does not
-- know them and will propose dropping them in a generated migration: delete those
-- DROP INDEX lines before committing it.

-- The background worker scans due PENDING rows; a partial index keeps that scan
-- proportional to the backlog, not to the millions of settled rows.
CREATE INDEX "signups_pending_due_idx" ON "signups"("next_attempt_at") WHERE "status" = 'PENDING';

-- Admin list filtered by status, newest first, keyset-paginated on id.
CREATE INDEX "signups_status_id_idx" ON "signups"("status", "id" DESC);

-- Admin prefix search (external_user_id LIKE 'abc%') whatever the database collation.
CREATE INDEX "signups_external_user_id_prefix_idx" ON "signups"("external_user_id" text_pattern_ops);
