-- CreateTable
CREATE TABLE "MigrationUser" (
    "wave" TEXT NOT NULL,
    "userKey" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "steps" JSONB NOT NULL DEFAULT '[]',
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "MigrationUser_pkey" PRIMARY KEY ("wave","userKey")
);

-- CreateIndex
CREATE INDEX "MigrationUser_userKey_idx" ON "MigrationUser"("userKey");
