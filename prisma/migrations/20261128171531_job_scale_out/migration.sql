-- AlterTable
ALTER TABLE "Cycle" ADD COLUMN     "cancelledUnits" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "failedUnits" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "finalizeQueuedAt" TIMESTAMPTZ(3),
ADD COLUMN     "jobId" UUID,
ADD COLUMN     "unitsSealed" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "CycleUnit" (
    "cycleId" UUID NOT NULL,
    "unitIndex" INTEGER NOT NULL,
    "jobId" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "CycleUnit_pkey" PRIMARY KEY ("cycleId","unitIndex")
);

-- CreateTable
CREATE TABLE "RequestBudget" (
    "connectionId" UUID NOT NULL,
    "ceilingPerSecond" DOUBLE PRECISION NOT NULL DEFAULT 20,
    "ratePerSecond" DOUBLE PRECISION NOT NULL DEFAULT 20,
    "nextSlotAt" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "pausedUntil" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastDecreaseAt" TIMESTAMPTZ(6),
    "grantedTotal" BIGINT NOT NULL DEFAULT 0,
    "throttledTotal" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RequestBudget_pkey" PRIMARY KEY ("connectionId")
);

-- CreateTable
CREATE TABLE "ScimRequestCount" (
    "connectionId" UUID NOT NULL,
    "statusCode" TEXT NOT NULL,
    "count" BIGINT NOT NULL DEFAULT 0,
    "durationMsTotal" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ScimRequestCount_pkey" PRIMARY KEY ("connectionId","statusCode")
);

-- CreateIndex
CREATE UNIQUE INDEX "CycleUnit_jobId_key" ON "CycleUnit"("jobId");

-- CreateIndex
CREATE INDEX "Cycle_jobId_idx" ON "Cycle"("jobId");

-- AddForeignKey
ALTER TABLE "CycleUnit" ADD CONSTRAINT "CycleUnit_cycleId_fkey" FOREIGN KEY ("cycleId") REFERENCES "Cycle"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RequestBudget" ADD CONSTRAINT "RequestBudget_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScimRequestCount" ADD CONSTRAINT "ScimRequestCount_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;



-- Hand-written: indexes Prisma's schema language cannot express.

-- Retention prunes finished jobs by age in small batches; this keeps each batch an index range scan.
CREATE INDEX "Job_finished_idx" ON "Job" ("finishedAt") WHERE "status" IN ('succeeded', 'failed', 'cancelled');

-- The daily maintenance enqueue looks for any job, finished or not, with that day's key.
CREATE INDEX "Job_dedupeKey_any_idx" ON "Job" ("dedupeKey") WHERE "dedupeKey" IS NOT NULL;
