-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "requireApprovalForDeletions" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "PlanPreview" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'computing',
    "requestedBy" TEXT NOT NULL,
    "cycleId" UUID,
    "appliedCycleId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "readyAt" TIMESTAMPTZ(3),
    "decidedAt" TIMESTAMPTZ(3),
    "decidedBy" TEXT,
    "summary" JSONB NOT NULL DEFAULT '{}',
    "operations" JSONB NOT NULL DEFAULT '[]',
    "memberships" JSONB NOT NULL DEFAULT '[]',
    "result" JSONB,
    "error" JSONB,

    CONSTRAINT "PlanPreview_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PlanPreview_connectionId_createdAt_idx" ON "PlanPreview"("connectionId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "PlanPreview" ADD CONSTRAINT "PlanPreview_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
