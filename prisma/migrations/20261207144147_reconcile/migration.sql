-- CreateTable
CREATE TABLE "ReconcileRun" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "jobId" UUID,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "requestedBy" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "error" TEXT,
    "counts" JSONB NOT NULL DEFAULT '{}',
    "dialpadUsers" INTEGER NOT NULL DEFAULT 0,
    "dialpadGroups" INTEGER NOT NULL DEFAULT 0,
    "entraUsers" INTEGER NOT NULL DEFAULT 0,
    "dialpadRequests" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ReconcileRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReconcileFinding" (
    "seq" BIGSERIAL NOT NULL,
    "runId" UUID NOT NULL,
    "category" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "reason" TEXT,
    "targetId" TEXT,
    "targetName" TEXT,
    "targetActive" BOOLEAN,
    "sourceId" TEXT,
    "sourceName" TEXT,
    "attribute" TEXT,
    "dialpadValue" JSONB,
    "desiredValue" JSONB,
    "detail" TEXT,

    CONSTRAINT "ReconcileFinding_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "ReconcileSourceKey" (
    "runId" UUID NOT NULL,
    "attribute" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "sourceId" TEXT NOT NULL,
    "sourceName" TEXT,
    "linkedTargetId" TEXT,

    CONSTRAINT "ReconcileSourceKey_pkey" PRIMARY KEY ("runId","attribute","value","sourceId")
);

-- CreateIndex
CREATE INDEX "ReconcileRun_connectionId_createdAt_idx" ON "ReconcileRun"("connectionId", "createdAt" DESC);

-- CreateIndex
CREATE INDEX "ReconcileFinding_runId_category_seq_idx" ON "ReconcileFinding"("runId", "category", "seq");

-- CreateIndex
CREATE INDEX "ReconcileFinding_runId_objectType_seq_idx" ON "ReconcileFinding"("runId", "objectType", "seq");

-- CreateIndex
CREATE INDEX "ProvisioningLog_connectionId_targetId_idx" ON "ProvisioningLog"("connectionId", "targetId");

-- AddForeignKey
ALTER TABLE "ReconcileRun" ADD CONSTRAINT "ReconcileRun_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReconcileFinding" ADD CONSTRAINT "ReconcileFinding_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ReconcileRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReconcileSourceKey" ADD CONSTRAINT "ReconcileSourceKey_runId_fkey" FOREIGN KEY ("runId") REFERENCES "ReconcileRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

