-- CreateEnum
CREATE TYPE "ImportStatus" AS ENUM ('RUNNING', 'COMPLETED', 'CANCELLED');

-- CreateTable
CREATE TABLE "imports" (
    "id" UUID NOT NULL,
    "status" "ImportStatus" NOT NULL DEFAULT 'RUNNING',
    "rows" INTEGER NOT NULL DEFAULT 0,
    "invalid" INTEGER NOT NULL DEFAULT 0,
    "already_registered" INTEGER NOT NULL DEFAULT 0,
    "conflicts" INTEGER NOT NULL DEFAULT 0,
    "cancelled" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "imports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "import_row_errors" (
    "import_id" UUID NOT NULL,
    "line" INTEGER NOT NULL,
    "external_user_id" TEXT,
    "code" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '[]',

    CONSTRAINT "import_row_errors_pkey" PRIMARY KEY ("import_id", "line")
);

-- CreateTable
CREATE TABLE "import_rate_buckets" (
    "name" TEXT NOT NULL,
    "tokens" DOUBLE PRECISION NOT NULL,
    "refilled_at" TIMESTAMPTZ(6) NOT NULL,
    "last_granted" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "import_rate_buckets_pkey" PRIMARY KEY ("name")
);

-- AlterTable
ALTER TABLE "signups" ADD COLUMN "import_id" UUID;

-- CreateIndex
CREATE INDEX "imports_created_at_idx" ON "imports"("created_at" DESC);

-- AddForeignKey
ALTER TABLE "import_row_errors" ADD CONSTRAINT "import_row_errors_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "signups" ADD CONSTRAINT "signups_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "imports"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Hand-written below: partial indexes that are not in schema.prisma.

-- An import's progress counts its rows by status.
CREATE INDEX "signups_import_id_status_idx" ON "signups"("import_id", "status") WHERE "import_id" IS NOT NULL;

-- The rate-limited import claim scans only import rows; the live worker's claim only the others, so a
-- million-row import backlog never lies in the index path of a live signup's retry.
CREATE INDEX "signups_import_pending_due_idx" ON "signups"("next_attempt_at", "id") WHERE "status" = 'PENDING' AND "import_id" IS NOT NULL;
CREATE INDEX "signups_live_pending_due_idx" ON "signups"("next_attempt_at") WHERE "status" = 'PENDING' AND "import_id" IS NULL;

-- An import's recent pace (rows settled in the last seconds) without reading its settled rows one by one.
CREATE INDEX "signups_import_settled_idx" ON "signups"("import_id", "updated_at") WHERE "import_id" IS NOT NULL AND "status" <> 'PENDING';
