-- AlterTable
ALTER TABLE "RoomBooking" ADD COLUMN     "summary" TEXT;

-- CreateIndex
CREATE INDEX "RoomBooking_uid_idx" ON "RoomBooking"("uid");
