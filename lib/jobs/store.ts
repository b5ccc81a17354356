import { Prisma, type PrismaClient } from "../db/generated/client";
import { retryDelayMs } from "./backoff";
import { recordCycleUnitOutcome, sealCyclePlannedBy } from "./cycles";
import { type JobKind, type JobPayload, isPermanentError, parseJobPayload } from "./definitions";

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface JobRow {
  id: string;
  kind: string;
  connectionId: string | null;
  cycleId: string | null;
  status: JobStatus;
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  lockedBy: string | null;
  leaseExpiresAt: Date | null;
  dedupeKey: string | null;
  payload: unknown;
  result: unknown;
  progress: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface EnqueueOptions {
  connectionId?: string;
  cycleId?: string;
  priority?: number;
  runAt?: Date;
  maxAttempts?: number;
  /** A live (queued or running) job with the same key makes this enqueue return that job instead. */
  dedupeKey?: string;
}

/** Channel workers LISTEN on, so a new job starts without waiting for the next poll. */
export const JOBS_CHANNEL = "provisioning_jobs";
/** Channel carrying the id of each job that finished, for callers waiting on a result. */
export const JOB_DONE_CHANNEL = "provisioning_job_done";

type Db = PrismaClient | Prisma.TransactionClient;

export async function enqueueJob<K extends JobKind>(
  db: Db,
  kind: K,
  payload: JobPayload<K>,
  options: EnqueueOptions = {},
): Promise<{ job: JobRow; created: boolean }> {
  const validPayload = parseJobPayload(kind, payload);
  const runAt = options.runAt ?? new Date();
  // ON CONFLICT against the partial unique indexes (dedupe key, one cycle per connection) makes a
  // concurrent duplicate a no-op instead of an error; the existing live job is returned.
  const inserted = await db.$queryRaw<JobRow[]>`
    INSERT INTO "Job" (id, kind, "connectionId", "cycleId", status, priority, "runAt", "maxAttempts", "dedupeKey", payload, "updatedAt")
    VALUES (gen_random_uuid(), ${kind}, ${options.connectionId ?? null}::uuid, ${options.cycleId ?? null}::uuid, 'queued',
            ${options.priority ?? 0}, ${runAt}, ${options.maxAttempts ?? 5}, ${options.dedupeKey ?? null},
            ${JSON.stringify(validPayload)}::jsonb, now())
    ON CONFLICT DO NOTHING
    RETURNING *`;
  if (inserted[0]) {
    await notifyWorkers(db);
    return { job: inserted[0], created: true };
  }
  const existing = await db.$queryRaw<JobRow[]>`
    SELECT * FROM "Job"
    WHERE status IN ('queued', 'running')
      AND ((${options.dedupeKey ?? null}::text IS NOT NULL AND "dedupeKey" = ${options.dedupeKey ?? null})
        OR (kind = 'provisioning-cycle' AND ${kind} = 'provisioning-cycle' AND "connectionId" = ${options.connectionId ?? null}::uuid))
    LIMIT 1`;
  if (!existing[0]) {
    // The conflicting job finished between our insert and our read: try once more.
    return enqueueJob(db, kind, payload, options);
  }
  return { job: existing[0], created: false };
}

export async function notifyWorkers(db: Db): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${JOBS_CHANNEL}, '')`;
}

/**
 * Claims up to `limit` runnable jobs in one statement. `FOR UPDATE SKIP LOCKED` lets any number of
 * workers on any number of hosts claim concurrently without blocking each other or taking the same
 * row. A running job whose lease expired (its worker died) is runnable again.
 */
export async function claimJobs(
  db: PrismaClient,
  options: { workerId: string; limit: number; leaseSeconds: number; kinds?: readonly string[] },
): Promise<JobRow[]> {
  if (options.limit <= 0) return [];
  const kinds = options.kinds ?? null;
  return db.$queryRaw<JobRow[]>`
    UPDATE "Job" AS j
    SET status = 'running',
        "lockedBy" = ${options.workerId},
        "lockedAt" = now(),
        "leaseExpiresAt" = now() + make_interval(secs => ${options.leaseSeconds}),
        attempts = j.attempts + 1,
        "startedAt" = COALESCE(j."startedAt", now()),
        "updatedAt" = now()
    WHERE j.id IN (
      SELECT id FROM "Job"
      WHERE ((status = 'queued' AND "runAt" <= now()) OR (status = 'running' AND "leaseExpiresAt" < now()))
        AND (${kinds}::text[] IS NULL OR kind = ANY(${kinds}::text[]))
      ORDER BY priority DESC, "runAt", "createdAt"
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING j.*`;
}

/** Extends the lease of jobs this worker still holds; returns the ids it no longer owns. */
export async function heartbeat(
  db: PrismaClient,
  workerId: string,
  jobIds: string[],
  leaseSeconds: number,
): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const kept = await db.$queryRaw<{ id: string }[]>`
    UPDATE "Job" SET "leaseExpiresAt" = now() + make_interval(secs => ${leaseSeconds}), "updatedAt" = now()
    WHERE id = ANY(${jobIds}::uuid[]) AND "lockedBy" = ${workerId} AND status = 'running'
    RETURNING id`;
  const keptIds = new Set(kept.map((row) => row.id));
  return jobIds.filter((id) => !keptIds.has(id));
}

/** Marks a job succeeded, unless it was taken over meanwhile (lease lost); returns whether it applied. */
export async function completeJob(
  db: PrismaClient,
  workerId: string,
  jobId: string,
  result: unknown,
): Promise<boolean> {
  return endJob(db, workerId, jobId, "succeeded", { result });
}

/**
 * Records a failure: permanent errors and exhausted attempts fail the job; anything else goes back to
 * the queue after an exponential, jittered delay.
 */
export async function failJob(
  db: PrismaClient,
  workerId: string,
  job: Pick<JobRow, "id" | "attempts" | "maxAttempts">,
  error: unknown,
  options: { retryBaseMs?: number } = {},
): Promise<"failed" | "retrying" | "lost"> {
  const message = describeError(error);
  const isFinal = isPermanentError(error) || job.attempts >= job.maxAttempts;
  if (isFinal) {
    return (await endJob(db, workerId, job.id, "failed", { error: message })) ? "failed" : "lost";
  }
  const delayMs = retryDelayMs(job.attempts, { baseMs: options.retryBaseMs });
  const updated = await db.$executeRaw`
    UPDATE "Job" SET status = 'queued', "lastError" = ${message}, "runAt" = now() + make_interval(secs => ${delayMs / 1000}),
      "lockedBy" = NULL, "leaseExpiresAt" = NULL, "updatedAt" = now()
    WHERE id = ${job.id}::uuid AND "lockedBy" = ${workerId} AND status = 'running'`;
  return updated > 0 ? "retrying" : "lost";
}

/** Ends a job this worker holds without running it (its cycle was stopped). */
export async function cancelJob(
  db: PrismaClient,
  workerId: string,
  jobId: string,
  reason: string,
): Promise<boolean> {
  return endJob(db, workerId, jobId, "cancelled", { error: reason });
}

/**
 * Moves a job this worker holds to a final status. Cycle bookkeeping happens in the same transaction:
 * a unit's outcome is counted into its cycle, and a planner's end seals its cycle's list of units. So a
 * worker dying between "job done" and "cycle updated" cannot exist, and the cycle's finalizer is
 * enqueued (exactly once) by whichever transaction ends the cycle's last unit.
 */
async function endJob(
  db: PrismaClient,
  workerId: string,
  jobId: string,
  status: "succeeded" | "failed" | "cancelled",
  outcome: { result?: unknown; error?: string },
): Promise<boolean> {
  const ended = await db.$transaction(async (tx) => {
    const [job] = await tx.$queryRaw<{ kind: string }[]>`
      UPDATE "Job" SET status = ${status},
        result = ${status === "succeeded" ? JSON.stringify(outcome.result ?? null) : null}::jsonb,
        "lastError" = COALESCE(${outcome.error ?? null}, "lastError"),
        "finishedAt" = now(), "lockedBy" = NULL, "leaseExpiresAt" = NULL, "updatedAt" = now()
      WHERE id = ${jobId}::uuid AND "lockedBy" = ${workerId} AND status = 'running'
      RETURNING kind`;
    if (!job) return false;
    if (job.kind === "cycle-unit") {
      await recordCycleUnitOutcome(tx, jobId, status === "succeeded" ? "completed" : status);
    } else if (job.kind === "provisioning-cycle") {
      await sealCyclePlannedBy(tx, jobId, status === "failed" ? outcome.error : undefined);
    }
    return true;
  });
  if (ended) await db.$executeRaw`SELECT pg_notify(${JOB_DONE_CHANNEL}, ${jobId})`;
  return ended;
}

/** Hands a job back untouched (graceful shutdown): the attempt it used is returned too. */
export async function releaseJob(db: PrismaClient, workerId: string, jobId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "Job" SET status = 'queued', attempts = GREATEST(attempts - 1, 0), "lockedBy" = NULL,
      "leaseExpiresAt" = NULL, "updatedAt" = now()
    WHERE id = ${jobId}::uuid AND "lockedBy" = ${workerId} AND status = 'running'`;
  await notifyWorkers(db);
}

export async function updateJobProgress(
  db: PrismaClient,
  jobId: string,
  progress: { completedUnits: number; totalUnits: number; units: string },
): Promise<void> {
  await db.$executeRaw`UPDATE "Job" SET progress = ${JSON.stringify(progress)}::jsonb, "updatedAt" = now() WHERE id = ${jobId}::uuid`;
}

export async function getJob(db: Db, jobId: string): Promise<JobRow | null> {
  const rows = await db.$queryRaw<JobRow[]>`SELECT * FROM "Job" WHERE id = ${jobId}::uuid`;
  return rows[0] ?? null;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 4000);
  return String(error).slice(0, 4000);
}

export { parseJobPayload };
