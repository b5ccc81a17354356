-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "skipOutOfScopeDeletions" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sourceShrinkPercent" INTEGER NOT NULL DEFAULT 30;

-- AlterTable
ALTER TABLE "Cycle" ADD COLUMN     "sourceShrinkHeld" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "sourceUsersBefore" INTEGER,
ADD COLUMN     "sourceUsersRead" INTEGER;

