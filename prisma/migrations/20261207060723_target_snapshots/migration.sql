-- CreateTable
CREATE TABLE "TargetSnapshot" (
    "id" UUID NOT NULL,
    "connectionId" UUID NOT NULL,
    "cycleId" UUID,
    "resourceType" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'reading',
    "reason" TEXT,
    "detail" TEXT,
    "takenAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMPTZ(3),
    "totalResults" INTEGER,
    "entryCount" INTEGER NOT NULL DEFAULT 0,
    "pageCount" INTEGER NOT NULL DEFAULT 0,
    "requestCount" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "TargetSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TargetSnapshotEntry" (
    "snapshotId" UUID NOT NULL,
    "resourceType" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,
    "active" BOOLEAN,
    "resource" JSONB NOT NULL,

    CONSTRAINT "TargetSnapshotEntry_pkey" PRIMARY KEY ("snapshotId","resourceType","targetId")
);

-- CreateTable
CREATE TABLE "TargetSnapshotKey" (
    "snapshotId" UUID NOT NULL,
    "resourceType" TEXT NOT NULL,
    "attribute" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "targetId" TEXT NOT NULL,

    CONSTRAINT "TargetSnapshotKey_pkey" PRIMARY KEY ("snapshotId","resourceType","attribute","value","targetId")
);

-- CreateIndex
CREATE INDEX "TargetSnapshot_connectionId_takenAt_idx" ON "TargetSnapshot"("connectionId", "takenAt" DESC);

-- CreateIndex
CREATE INDEX "TargetSnapshot_cycleId_idx" ON "TargetSnapshot"("cycleId");

-- AddForeignKey
ALTER TABLE "TargetSnapshot" ADD CONSTRAINT "TargetSnapshot_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TargetSnapshotEntry" ADD CONSTRAINT "TargetSnapshotEntry_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "TargetSnapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TargetSnapshotKey" ADD CONSTRAINT "TargetSnapshotKey_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "TargetSnapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

