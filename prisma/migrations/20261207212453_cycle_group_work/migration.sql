-- CreateTable
CREATE TABLE "CycleGroupWork" (
    "cycleId" UUID NOT NULL,
    "slice" INTEGER NOT NULL,
    "payload" JSONB NOT NULL,

    CONSTRAINT "CycleGroupWork_pkey" PRIMARY KEY ("cycleId","slice")
);

-- AddForeignKey
ALTER TABLE "CycleGroupWork" ADD CONSTRAINT "CycleGroupWork_cycleId_fkey" FOREIGN KEY ("cycleId") REFERENCES "Cycle"("id") ON DELETE CASCADE ON UPDATE CASCADE;

