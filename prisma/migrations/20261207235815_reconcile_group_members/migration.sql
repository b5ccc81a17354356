-- AlterTable
ALTER TABLE "ReconcileFinding" ADD COLUMN     "memberSourceId" TEXT,
ADD COLUMN     "memberTargetId" TEXT;
