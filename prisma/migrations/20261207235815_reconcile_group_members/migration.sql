-- AlterTable
ALTER TABLE "ReconcileFinding" ADD COLUMN     "memberSourceId" TEXT,
ADD COLUMN     "memberTargetId" TEXT;

-- CreateTable
CREATE TABLE "TargetSnapshotMember" (
    "snapshotId" UUID NOT NULL,
    "groupId" TEXT NOT NULL,
    "memberId" TEXT NOT NULL,

    CONSTRAINT "TargetSnapshotMember_pkey" PRIMARY KEY ("snapshotId","groupId","memberId")
);

-- AddForeignKey
ALTER TABLE "TargetSnapshotMember" ADD CONSTRAINT "TargetSnapshotMember_snapshotId_fkey" FOREIGN KEY ("snapshotId") REFERENCES "TargetSnapshot"("id") ON DELETE CASCADE ON UPDATE CASCADE;

