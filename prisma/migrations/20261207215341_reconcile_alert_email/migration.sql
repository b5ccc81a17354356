-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "reconcileAlertEmail" BOOLEAN NOT NULL DEFAULT false;

