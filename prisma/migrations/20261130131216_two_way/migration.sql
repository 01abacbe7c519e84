-- AlterTable
ALTER TABLE "EventLink" ADD COLUMN     "base" TEXT;

-- CreateTable
CREATE TABLE "Conflict" (
    "id" SERIAL NOT NULL,
    "pairId" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "originalTime" BIGINT NOT NULL,
    "fields" JSONB NOT NULL,
    "feishu" JSONB,
    "spoke" JSONB,
    "spokeId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolvedAt" TIMESTAMP(3),
    "keep" TEXT,

    CONSTRAINT "Conflict_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SpokeSubscription" (
    "id" TEXT NOT NULL,
    "pairId" TEXT NOT NULL,
    "spoke" TEXT NOT NULL,
    "resource" TEXT,
    "secret" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SpokeSubscription_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Conflict_pairId_uid_originalTime_idx" ON "Conflict"("pairId", "uid", "originalTime");

-- CreateIndex
CREATE INDEX "Conflict_resolvedAt_idx" ON "Conflict"("resolvedAt");

-- CreateIndex
CREATE INDEX "SpokeSubscription_pairId_idx" ON "SpokeSubscription"("pairId");

-- AddForeignKey
ALTER TABLE "Conflict" ADD CONSTRAINT "Conflict_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "SyncPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SpokeSubscription" ADD CONSTRAINT "SpokeSubscription_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "SyncPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;
