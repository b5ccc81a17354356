-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Connection" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "managedBySandbox" BOOLEAN NOT NULL DEFAULT false,
    "tenantUrl" TEXT,
    "secretTokenCipher" TEXT,
    "secretTokenLast4" TEXT,
    "secretTokenUpdatedAt" TIMESTAMPTZ(3),
    "secretTokenExpiresAt" TIMESTAMPTZ(3),
    "graphAuthorityHost" TEXT,
    "graphBaseUrl" TEXT,
    "graphTenantId" TEXT,
    "graphClientId" TEXT,
    "graphClientSecretCipher" TEXT,
    "graphClientSecretLast4" TEXT,
    "graphClientSecretUpdatedAt" TIMESTAMPTZ(3),
    "graphServicePrincipalId" TEXT,
    "scope" TEXT NOT NULL DEFAULT 'AssignedOnly',
    "notificationEmail" TEXT,
    "notifyOnFailure" BOOLEAN NOT NULL DEFAULT false,
    "preventAccidentalDeletes" BOOLEAN NOT NULL DEFAULT true,
    "deletionThreshold" INTEGER NOT NULL DEFAULT 500,
    "scheduleIntervalMinutes" INTEGER NOT NULL DEFAULT 40,
    "provisioningEnabled" BOOLEAN NOT NULL DEFAULT false,
    "mappings" JSONB,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "usersDeltaLink" TEXT,
    "groupsDeltaLink" TEXT,
    "lastCycleId" UUID,
    "quarantineReason" TEXT,
    "quarantineSeriesBegan" TIMESTAMPTZ(3),
    "quarantineCurrentBegan" TIMESTAMPTZ(3),
    "quarantineNextAttempt" TIMESTAMPTZ(3),
    "quarantineSeriesCount" INTEGER NOT NULL DEFAULT 0,
    "quarantineError" JSONB,
    "quarantineNotifiedReason" TEXT,

    CONSTRAINT "Connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "connectionId" UUID,
    "cycleId" UUID,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "runAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 5,
    "lastError" TEXT,
    "lockedBy" TEXT,
    "lockedAt" TIMESTAMPTZ(3),
    "leaseExpiresAt" TIMESTAMPTZ(3),
    "dedupeKey" TEXT,
    "payload" JSONB NOT NULL,
    "result" JSONB,
    "progress" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Cycle" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "stopRequested" BOOLEAN NOT NULL DEFAULT false,
    "dryRun" BOOLEAN NOT NULL DEFAULT false,
    "trigger" TEXT NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMPTZ(3),
    "completedUnits" INTEGER NOT NULL DEFAULT 0,
    "totalUnits" INTEGER NOT NULL DEFAULT 0,
    "counts" JSONB NOT NULL DEFAULT '{}',
    "error" JSONB,

    CONSTRAINT "Cycle_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ObjectLink" (
    "connectionId" UUID NOT NULL,
    "objectType" TEXT NOT NULL,
    "sourceId" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "displayName" TEXT,
    "exportedHash" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "lastExportedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ObjectLink_pkey" PRIMARY KEY ("connectionId","objectType","sourceId")
);

-- CreateTable
CREATE TABLE "Escrow" (
    "connectionId" UUID NOT NULL,
    "objectType" TEXT NOT NULL,
    "sourceId" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'object',
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "nextRetryAt" TIMESTAMPTZ(3) NOT NULL,
    "lastErrorCode" TEXT,
    "lastError" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Escrow_pkey" PRIMARY KEY ("connectionId","objectType","sourceId","kind")
);

-- CreateTable
CREATE TABLE "HeldChange" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "cycleId" UUID NOT NULL,
    "objectType" TEXT NOT NULL,
    "sourceId" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "displayName" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "HeldChange_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProvisioningLog" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "connectionId" UUID NOT NULL,
    "activityDateTime" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "cycleId" UUID,
    "changeId" UUID NOT NULL,
    "jobId" UUID,
    "action" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "sourceId" TEXT,
    "sourceDisplayName" TEXT,
    "targetId" TEXT,
    "targetDisplayName" TEXT,
    "modifiedProperties" JSONB NOT NULL DEFAULT '[]',
    "steps" JSONB NOT NULL DEFAULT '[]',
    "errorCode" TEXT,
    "errorCategory" TEXT,
    "errorReason" TEXT,
    "recommendedAction" TEXT,
    "durationMs" INTEGER NOT NULL DEFAULT 0,
    "initiatedBy" TEXT NOT NULL,
    "replayOf" UUID,

    CONSTRAINT "ProvisioningLog_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEntry" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "connectionId" UUID,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activity" TEXT NOT NULL,
    "actorObjectId" TEXT NOT NULL,
    "actorUpn" TEXT NOT NULL,
    "result" TEXT NOT NULL DEFAULT 'success',
    "changes" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stoppedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Job_status_runAt_priority_idx" ON "Job"("status", "runAt", "priority");

-- CreateIndex
CREATE INDEX "Job_connectionId_createdAt_idx" ON "Job"("connectionId", "createdAt");

-- CreateIndex
CREATE INDEX "Job_cycleId_idx" ON "Job"("cycleId");

-- CreateIndex
CREATE INDEX "Cycle_connectionId_startedAt_idx" ON "Cycle"("connectionId", "startedAt");

-- CreateIndex
CREATE INDEX "ObjectLink_connectionId_targetId_idx" ON "ObjectLink"("connectionId", "targetId");

-- CreateIndex
CREATE INDEX "HeldChange_connectionId_idx" ON "HeldChange"("connectionId");

-- CreateIndex
CREATE INDEX "ProvisioningLog_connectionId_activityDateTime_seq_idx" ON "ProvisioningLog"("connectionId", "activityDateTime" DESC, "seq" DESC);

-- CreateIndex
CREATE INDEX "ProvisioningLog_connectionId_status_activityDateTime_idx" ON "ProvisioningLog"("connectionId", "status", "activityDateTime" DESC);

-- CreateIndex
CREATE INDEX "ProvisioningLog_cycleId_idx" ON "ProvisioningLog"("cycleId");

-- CreateIndex
CREATE INDEX "ProvisioningLog_changeId_idx" ON "ProvisioningLog"("changeId");

-- CreateIndex
CREATE UNIQUE INDEX "ProvisioningLog_seq_key" ON "ProvisioningLog"("seq");

-- CreateIndex
CREATE INDEX "AuditEntry_connectionId_at_idx" ON "AuditEntry"("connectionId", "at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "AuditEntry_seq_key" ON "AuditEntry"("seq");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Cycle" ADD CONSTRAINT "Cycle_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ObjectLink" ADD CONSTRAINT "ObjectLink_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Escrow" ADD CONSTRAINT "Escrow_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HeldChange" ADD CONSTRAINT "HeldChange_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ProvisioningLog" ADD CONSTRAINT "ProvisioningLog_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuditEntry" ADD CONSTRAINT "AuditEntry_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE SET NULL ON UPDATE CASCADE;


-- Hand-written: indexes Prisma's schema language cannot express.

-- Claiming scans only runnable jobs, newest-priority first.
CREATE INDEX "Job_claim_idx" ON "Job" ("priority" DESC, "runAt") WHERE "status" = 'queued';
CREATE INDEX "Job_lease_idx" ON "Job" ("leaseExpiresAt") WHERE "status" = 'running';

-- At most one provisioning cycle per connection, queued or running, enforced by the database.
CREATE UNIQUE INDEX "Job_one_cycle_per_connection" ON "Job" ("connectionId")
  WHERE "kind" = 'provisioning-cycle' AND "status" IN ('queued', 'running');
CREATE UNIQUE INDEX "Cycle_one_running_per_connection" ON "Cycle" ("connectionId") WHERE "status" = 'running';

-- Deduplication applies to live jobs only; a finished job's key may be reused.
CREATE UNIQUE INDEX "Job_dedupeKey_live" ON "Job" ("dedupeKey") WHERE "dedupeKey" IS NOT NULL AND "status" IN ('queued', 'running');
