-- CreateTable
CREATE TABLE "SyncPair" (
    "id" TEXT NOT NULL,
    "userKey" TEXT NOT NULL,
    "feishuOwner" TEXT NOT NULL,
    "feishuCalendar" TEXT NOT NULL,
    "spoke" TEXT NOT NULL,
    "spokeOwner" TEXT NOT NULL,
    "spokeCalendar" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retiredAt" TIMESTAMP(3),

    CONSTRAINT "SyncPair_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EventLink" (
    "id" SERIAL NOT NULL,
    "pairId" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "originalTime" BIGINT NOT NULL,
    "spokeId" TEXT,
    "feishuVersion" TEXT,
    "spokeVersion" TEXT,
    "feishuFingerprint" TEXT,
    "spokeFingerprint" TEXT,
    "tombstone" BOOLEAN NOT NULL DEFAULT false,
    "note" TEXT,
    "lastSyncedAt" TIMESTAMP(3),
    "lastError" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EventLink_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Cursor" (
    "pairId" TEXT NOT NULL,
    "side" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Cursor_pkey" PRIMARY KEY ("pairId","side")
);

-- CreateTable
CREATE TABLE "InboundEvent" (
    "provider" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMP(3),

    CONSTRAINT "InboundEvent_pkey" PRIMARY KEY ("provider","eventId")
);

-- CreateTable
CREATE TABLE "Credential" (
    "provider" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "blob" BYTEA NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "refreshExpiresAt" TIMESTAMP(3),
    "status" TEXT NOT NULL DEFAULT 'ok',
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Credential_pkey" PRIMARY KEY ("provider","subject")
);

-- CreateTable
CREATE TABLE "RoomBooking" (
    "id" SERIAL NOT NULL,
    "roomId" TEXT NOT NULL,
    "uid" TEXT NOT NULL,
    "originalTime" BIGINT NOT NULL,
    "spoke" TEXT NOT NULL,
    "spokeRoom" TEXT,
    "spokeEventId" TEXT,
    "status" TEXT NOT NULL,
    "startAt" TIMESTAMP(3),
    "endAt" TIMESTAMP(3),
    "organizer" TEXT,
    "lastError" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RoomBooking_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SyncRun" (
    "id" SERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    "status" TEXT NOT NULL DEFAULT 'running',
    "counts" JSONB,
    "report" JSONB,
    "error" TEXT,

    CONSTRAINT "SyncRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SyncPair_feishuCalendar_idx" ON "SyncPair"("feishuCalendar");

-- CreateIndex
CREATE UNIQUE INDEX "SyncPair_feishuCalendar_spoke_spokeOwner_spokeCalendar_key" ON "SyncPair"("feishuCalendar", "spoke", "spokeOwner", "spokeCalendar");

-- CreateIndex
CREATE INDEX "EventLink_pairId_spokeId_idx" ON "EventLink"("pairId", "spokeId");

-- CreateIndex
CREATE UNIQUE INDEX "EventLink_pairId_uid_originalTime_key" ON "EventLink"("pairId", "uid", "originalTime");

-- CreateIndex
CREATE INDEX "InboundEvent_receivedAt_idx" ON "InboundEvent"("receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "RoomBooking_roomId_uid_originalTime_spoke_key" ON "RoomBooking"("roomId", "uid", "originalTime", "spoke");

-- CreateIndex
CREATE INDEX "SyncRun_kind_startedAt_idx" ON "SyncRun"("kind", "startedAt");

-- AddForeignKey
ALTER TABLE "EventLink" ADD CONSTRAINT "EventLink_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "SyncPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Cursor" ADD CONSTRAINT "Cursor_pairId_fkey" FOREIGN KEY ("pairId") REFERENCES "SyncPair"("id") ON DELETE CASCADE ON UPDATE CASCADE;
