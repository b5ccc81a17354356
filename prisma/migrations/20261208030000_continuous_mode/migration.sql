-- Connections made before continuous mode keep Entra's interval; the console creates new ones continuous.
ALTER TABLE "Connection" ADD COLUMN     "scheduleMode" TEXT NOT NULL DEFAULT 'interval';
ALTER TABLE "Connection" ADD COLUMN     "assignmentsDeltaLink" TEXT,
ADD COLUMN     "membersDeltaLink" TEXT,
ADD COLUMN     "lastPollAt" TIMESTAMPTZ(3),
ADD COLUMN     "lastChangeSeenAt" TIMESTAMPTZ(3),
ADD COLUMN     "lastPollError" TEXT,
ADD COLUMN     "pollIdleStreak" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pollChangeDigest" TEXT,
ADD COLUMN     "pollCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "pollGraphRequests" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Cycle" ADD COLUMN     "changeSeenAt" TIMESTAMPTZ(3);
