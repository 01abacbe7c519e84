-- AlterTable
ALTER TABLE "RoomBooking" ADD COLUMN     "mode" TEXT;
