-- AlterTable
ALTER TABLE "RoomBooking" ADD COLUMN     "mode" TEXT,
ADD COLUMN     "organizerId" TEXT;
