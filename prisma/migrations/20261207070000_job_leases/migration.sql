-- Fencing: every claim gets a new lease token; writes of an attempt are accepted only while its token is
-- the job's current one. "claims" counts every claim (a release does not give it back), so a re-run knows
-- that an earlier attempt may have done part of the work.
ALTER TABLE "Job" ADD COLUMN "leaseToken" UUID,
ADD COLUMN "claims" INTEGER NOT NULL DEFAULT 0;

UPDATE "Job" SET "claims" = "attempts";

-- One live cycle job per connection is now the generic dedupe key, not an index that knows one kind.
UPDATE "Job" SET "dedupeKey" = 'provisioning-cycle:' || "connectionId"
WHERE kind = 'provisioning-cycle' AND status IN ('queued', 'running') AND "dedupeKey" IS NULL;
DROP INDEX IF EXISTS "Job_one_cycle_per_connection";

-- What a cycle's planner hands to its finalizer, written under the planner's lease (was Job.result).
ALTER TABLE "Cycle" ADD COLUMN "handover" JSONB;
