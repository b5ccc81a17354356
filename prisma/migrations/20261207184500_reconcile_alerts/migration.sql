-- Reconcile alerts (issue 17): a report after each full cycle (off unless an admin turns it on), and
-- new connections' webhooks subscribe to reconcile.finished too. Existing connections keep their events.
-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "reconcileAfterFullCycle" BOOLEAN NOT NULL DEFAULT false,
ALTER COLUMN "webhookEvents" SET DEFAULT ARRAY['cycle.finished', 'quarantine.entered', 'quarantine.left', 'deletions.held', 'reconcile.finished']::TEXT[];

