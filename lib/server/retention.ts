import { z } from "zod";
import type { PrismaClient } from "../db/generated/client";
import { defineJobKind } from "../jobs/kind";
import { type JobRow, notifyWorkers } from "../jobs/store";

/** The daily retention run; one per day across every worker (its dedupe key names the day). */
export const retentionJob = defineJobKind("maintenance", z.object({ task: z.enum(["prune"]) }).strict());

export interface PruneOptions {
  retentionDays: number;
  /** Rows per DELETE statement: small enough that each statement's locks and WAL burst stay short. */
  batchSize?: number;
  /** Stops between batches when aborted (worker shutting down); the next day's run continues. */
  signal?: AbortSignal;
  now?: Date;
}

export interface PruneResult {
  provisioningLogs: number;
  jobs: number;
  cycleUnits: number;
  workers: number;
}

/**
 * Retention: deletes provisioning logs, finished jobs, the unit rows of ended cycles, and records of
 * stopped workers older than `retentionDays`. Each statement deletes at most `batchSize` rows chosen
 * by primary key through an index (never one long DELETE holding locks on millions of rows), each in its
 * own implicit transaction, so concurrent inserts and the console's log reads are never blocked for long.
 */
export async function pruneExpiredData(db: PrismaClient, options: PruneOptions): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 5_000;
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000);
  const result: PruneResult = { provisioningLogs: 0, jobs: 0, cycleUnits: 0, workers: 0 };

  // Per connection, so each batch is a range scan of ProvisioningLog's (connectionId, activityDateTime) index.
  const connections = await db.$queryRaw<{ id: string }[]>`SELECT id FROM "Connection"`;
  for (const { id } of connections) {
    result.provisioningLogs += await inBatches(
      options.signal,
      batchSize,
      () =>
        db.$executeRaw`
        DELETE FROM "ProvisioningLog" WHERE id IN (
          SELECT id FROM "ProvisioningLog"
          WHERE "connectionId" = ${id}::uuid AND "activityDateTime" < ${cutoff}
          LIMIT ${batchSize})`,
    );
  }
  result.jobs += await inBatches(
    options.signal,
    batchSize,
    () =>
      db.$executeRaw`
      DELETE FROM "Job" WHERE id IN (
        SELECT id FROM "Job"
        WHERE status IN ('succeeded', 'failed', 'cancelled') AND "finishedAt" < ${cutoff}
        LIMIT ${batchSize})`,
  );
  result.cycleUnits += await inBatches(
    options.signal,
    batchSize,
    () =>
      db.$executeRaw`
      DELETE FROM "CycleUnit" WHERE ("cycleId", "unitIndex") IN (
        SELECT u."cycleId", u."unitIndex" FROM "CycleUnit" u JOIN "Cycle" c ON c.id = u."cycleId"
        WHERE c."endedAt" < ${cutoff}
        LIMIT ${batchSize})`,
  );
  result.workers += await db.$executeRaw`
    DELETE FROM "Worker" WHERE COALESCE("stoppedAt", "lastSeenAt") < ${cutoff}`;
  return result;
}

async function inBatches(
  signal: AbortSignal | undefined,
  batchSize: number,
  deleteBatch: () => Promise<number>,
): Promise<number> {
  let total = 0;
  for (;;) {
    if (signal?.aborted) return total;
    const deleted = await deleteBatch();
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/**
 * Enqueues today's prune unless any worker already did: every worker calls this at start and hourly.
 * The dedupe key names the UTC day, and the NOT EXISTS also sees a finished run of that day, so the
 * prune runs once a day however many workers there are. (Two workers racing past NOT EXISTS collide on
 * the live-dedupe unique index instead, and ON CONFLICT turns the second insert into nothing.)
 */
export async function enqueueDailyPrune(db: PrismaClient, now: Date = new Date()): Promise<JobRow | null> {
  const dedupeKey = `maintenance:prune:${now.toISOString().slice(0, 10)}`;
  const [job] = await db.$queryRaw<JobRow[]>`
    INSERT INTO "Job" (id, kind, status, priority, "runAt", "maxAttempts", "dedupeKey", payload, "updatedAt")
    SELECT gen_random_uuid(), 'maintenance', 'queued', -10, now(), 3, ${dedupeKey}, '{"task":"prune"}'::jsonb, now()
    WHERE NOT EXISTS (SELECT 1 FROM "Job" WHERE "dedupeKey" = ${dedupeKey})
    ON CONFLICT DO NOTHING
    RETURNING *`;
  if (job) await notifyWorkers(db);
  return job ?? null;
}
