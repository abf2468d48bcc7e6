-- CreateIndex
CREATE INDEX "signups_created_at_idx" ON "signups"("created_at");
