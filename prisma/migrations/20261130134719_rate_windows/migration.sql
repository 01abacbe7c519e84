-- CreateTable
CREATE TABLE "RateWindow" (
    "key" TEXT NOT NULL,
    "windowMs" INTEGER NOT NULL,
    "start" BIGINT NOT NULL,
    "taken" INTEGER NOT NULL,

    CONSTRAINT "RateWindow_pkey" PRIMARY KEY ("key","windowMs","start")
);
