-- AlterTable
ALTER TABLE "EventLink" ADD COLUMN     "attendeesPending" BOOLEAN;
