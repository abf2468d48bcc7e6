-- CreateEnum
CREATE TYPE "KycStatus" AS ENUM ('NOT_STARTED', 'IN_PROGRESS', 'REVIEW_NEEDED', 'VERIFIED', 'REJECTED');

-- AlterTable: a constant default fills every existing row without rewriting the table (PostgreSQL 11+).
ALTER TABLE "signups" ADD COLUMN "kyc_status" "KycStatus" NOT NULL DEFAULT 'NOT_STARTED',
ADD COLUMN "kyc_updated_at" TIMESTAMPTZ(3),
ADD COLUMN "kyc_link_issued_at" TIMESTAMPTZ(3);

-- AlterTable: which Capa endpoint an attempt called (create, kyc-link, kyb-link, kyc-details, kyb-details).
ALTER TABLE "capa_attempts" ADD COLUMN "operation" TEXT NOT NULL DEFAULT 'create';

-- CreateTable
CREATE TABLE "capa_webhook_inbox" (
    "id" BIGSERIAL NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sha256" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "type" TEXT,
    "event" TEXT,
    "external_user_id" TEXT,
    "signup_id" BIGINT,
    "kyc_status" "KycStatus",

    CONSTRAINT "capa_webhook_inbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "capa_webhook_inbox_external_user_id_type_id_idx" ON "capa_webhook_inbox"("external_user_id", "type", "id");

-- CreateIndex
CREATE INDEX "capa_webhook_inbox_sha256_received_at_idx" ON "capa_webhook_inbox"("sha256", "received_at");

-- AddForeignKey
ALTER TABLE "capa_webhook_inbox" ADD CONSTRAINT "capa_webhook_inbox_signup_id_fkey" FOREIGN KEY ("signup_id") REFERENCES "signups"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Hand-written below (not in schema.prisma; delete generated DROP INDEX lines for them).

-- Admin list filtered by KYC status, newest first, keyset-paginated on id.
CREATE INDEX "signups_kyc_status_id_idx" ON "signups"("kyc_status", "id" DESC);

-- Admin inbox filtered by outcome, newest first.
CREATE INDEX "capa_webhook_inbox_outcome_id_idx" ON "capa_webhook_inbox"("outcome", "id" DESC);
