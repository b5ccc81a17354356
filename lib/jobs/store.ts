import type { Prisma, PrismaClient } from "../db/generated/client";
import { retryDelayMs } from "./backoff";
import { type JobKind, type JobPayloadInput, isPermanentError, parseJobPayload } from "./kind";

/**
 * The durable job queue: enqueue, claim (FOR UPDATE SKIP LOCKED), heartbeat, and the end of a job. It
 * knows no kind of job: kinds are declared by their owners (lib/jobs/kind.ts), and an owner's bookkeeping
 * runs in the transaction that ends the job through the kind's `onEnd` hook.
 */

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
  claims: number;
  maxAttempts: number;
  lastError: string | null;
  lockedBy: string | null;
  leaseExpiresAt: Date | null;
  leaseToken: string | null;
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

/** The attempt a write or an end belongs to. */
export interface AttemptRef {
  jobId: string;
  token: string;
}

/** Channel workers LISTEN on, so a new job starts without waiting for the next poll. */
export const JOBS_CHANNEL = "provisioning_jobs";
/** Channel carrying the id of each job that finished, for callers waiting on a result. */
export const JOB_DONE_CHANNEL = "provisioning_job_done";

type Db = PrismaClient | Prisma.TransactionClient;

export async function enqueueJob<K extends JobKind>(
  db: Db,
  kind: K,
  payload: JobPayloadInput<K>,
  options: EnqueueOptions = {},
): Promise<{ job: JobRow; created: boolean }> {
  const validPayload = parseJobPayload(kind, payload);
  const runAt = options.runAt ?? new Date();
  // ON CONFLICT against the partial unique index of live dedupe keys makes a concurrent duplicate a no-op
  // instead of an error; the existing live job is returned.
  const inserted = await db.$queryRaw<JobRow[]>`
    INSERT INTO "Job" (id, kind, "connectionId", "cycleId", status, priority, "runAt", "maxAttempts", "dedupeKey", payload, "updatedAt")
    VALUES (gen_random_uuid(), ${kind.name}, ${options.connectionId ?? null}::uuid, ${options.cycleId ?? null}::uuid, 'queued',
            ${options.priority ?? 0}, ${runAt}, ${options.maxAttempts ?? 5}, ${options.dedupeKey ?? null},
            ${JSON.stringify(validPayload)}::jsonb, now())
    ON CONFLICT DO NOTHING
    RETURNING *`;
  if (inserted[0]) {
    await notifyWorkers(db);
    return { job: inserted[0], created: true };
  }
  const [existing] = await db.$queryRaw<JobRow[]>`
    SELECT * FROM "Job"
    WHERE status IN ('queued', 'running') AND "dedupeKey" = ${options.dedupeKey ?? null}
    LIMIT 1`;
  if (!existing) {
    // The conflicting job finished between our insert and our read: try once more.
    return enqueueJob(db, kind, payload, options);
  }
  return { job: existing, created: false };
}

export async function notifyWorkers(db: Db): Promise<void> {
  await db.$executeRaw`SELECT pg_notify(${JOBS_CHANNEL}, '')`;
}

/**
 * Claims up to `limit` runnable jobs in one statement. `FOR UPDATE SKIP LOCKED` lets any number of
 * workers on any number of hosts claim concurrently without blocking each other or taking the same
 * row. A running job whose lease expired (its worker died or froze) is runnable again; the new lease
 * token fences out whatever the earlier attempt still tries to write.
 */
export async function claimJobs(
  db: PrismaClient,
  options: { workerId: string; limit: number; leaseSeconds: number; kinds: readonly string[] },
): Promise<JobRow[]> {
  if (options.limit <= 0 || options.kinds.length === 0) return [];
  return db.$queryRaw<JobRow[]>`
    UPDATE "Job" AS j
    SET status = 'running',
        "lockedBy" = ${options.workerId},
        "lockedAt" = now(),
        "leaseExpiresAt" = now() + make_interval(secs => ${options.leaseSeconds}),
        "leaseToken" = gen_random_uuid(),
        attempts = j.attempts + 1,
        claims = j.claims + 1,
        "startedAt" = COALESCE(j."startedAt", now()),
        "updatedAt" = now()
    WHERE j.id IN (
      SELECT id FROM "Job"
      WHERE ((status = 'queued' AND "runAt" <= now()) OR (status = 'running' AND "leaseExpiresAt" < now()))
        AND kind = ANY(${options.kinds}::text[])
      ORDER BY priority DESC, "runAt", "createdAt"
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING j.*`;
}

/** Extends the leases this worker still holds; returns the ids of jobs whose lease it lost. */
export async function heartbeat(
  db: PrismaClient,
  attempts: readonly AttemptRef[],
  leaseSeconds: number,
): Promise<string[]> {
  if (attempts.length === 0) return [];
  const kept = await db.$queryRaw<{ id: string }[]>`
    UPDATE "Job" AS j SET "leaseExpiresAt" = now() + make_interval(secs => ${leaseSeconds}), "updatedAt" = now()
    FROM unnest(${attempts.map((a) => a.jobId)}::uuid[], ${attempts.map((a) => a.token)}::uuid[]) AS a(id, token)
    WHERE j.id = a.id AND j."leaseToken" = a.token AND j.status = 'running' AND j."leaseExpiresAt" > now()
    RETURNING j.id`;
  const keptIds = new Set(kept.map((row) => row.id));
  return attempts.filter((attempt) => !keptIds.has(attempt.jobId)).map((attempt) => attempt.jobId);
}

/** Marks a job succeeded, unless this attempt lost it meanwhile; returns whether it applied. */
export async function completeJob(
  db: PrismaClient,
  attempt: AttemptRef,
  result: unknown,
  kind?: JobKind,
): Promise<boolean> {
  return endJob(db, attempt, kind, "succeeded", { result });
}

/**
 * Records a failure: permanent errors and exhausted attempts fail the job; anything else goes back to
 * the queue after an exponential, jittered delay.
 */
export async function failJob(
  db: PrismaClient,
  attempt: AttemptRef,
  job: Pick<JobRow, "attempts" | "maxAttempts">,
  error: unknown,
  options: { retryBaseMs?: number; kind?: JobKind } = {},
): Promise<"failed" | "retrying" | "lost"> {
  const message = describeError(error);
  const isFinal = isPermanentError(error) || job.attempts >= job.maxAttempts;
  if (isFinal) {
    return (await endJob(db, attempt, options.kind, "failed", { error: message })) ? "failed" : "lost";
  }
  const delayMs = retryDelayMs(job.attempts, { baseMs: options.retryBaseMs });
  const updated = await db.$executeRaw`
    UPDATE "Job" SET status = 'queued', "lastError" = ${message}, "runAt" = now() + make_interval(secs => ${delayMs / 1000}),
      "lockedBy" = NULL, "leaseExpiresAt" = NULL, "leaseToken" = NULL, "updatedAt" = now()
    WHERE id = ${attempt.jobId}::uuid AND "leaseToken" = ${attempt.token}::uuid AND status = 'running'`;
  return updated > 0 ? "retrying" : "lost";
}

/** Ends a job this attempt holds without running it (e.g. its cycle was stopped). */
export async function cancelJob(
  db: PrismaClient,
  attempt: AttemptRef,
  reason: string,
  kind?: JobKind,
): Promise<boolean> {
  return endJob(db, attempt, kind, "cancelled", { error: reason });
}

/**
 * Moves a job this attempt holds to a final status, and runs the kind's end hook in the same
 * transaction: a worker dying between "job done" and "owner's bookkeeping done" cannot exist.
 */
async function endJob(
  db: PrismaClient,
  attempt: AttemptRef,
  kind: JobKind | undefined,
  status: "succeeded" | "failed" | "cancelled",
  outcome: { result?: unknown; error?: string },
): Promise<boolean> {
  const ended = await db.$transaction(async (tx) => {
    const [job] = await tx.$queryRaw<{ id: string }[]>`
      UPDATE "Job" SET status = ${status},
        result = ${status === "succeeded" ? JSON.stringify(outcome.result ?? null) : null}::jsonb,
        "lastError" = COALESCE(${outcome.error ?? null}, "lastError"),
        "finishedAt" = now(), "lockedBy" = NULL, "leaseExpiresAt" = NULL, "leaseToken" = NULL, "updatedAt" = now()
      WHERE id = ${attempt.jobId}::uuid AND "leaseToken" = ${attempt.token}::uuid AND status = 'running'
      RETURNING id`;
    if (!job) return false;
    await kind?.onEnd?.(tx, {
      jobId: attempt.jobId,
      status,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    });
    return true;
  });
  if (ended) await db.$executeRaw`SELECT pg_notify(${JOB_DONE_CHANNEL}, ${attempt.jobId})`;
  return ended;
}

/**
 * Hands a job back (graceful shutdown) so another worker takes it at once. Its attempt is given back,
 * since a drain is no failure of the job; `claims` keeps counting, so the next run knows an earlier one
 * may have done part of the work.
 */
export async function releaseJob(db: PrismaClient, attempt: AttemptRef): Promise<boolean> {
  const released = await db.$executeRaw`
    UPDATE "Job" SET status = 'queued', attempts = GREATEST(attempts - 1, 0), "lockedBy" = NULL,
      "leaseExpiresAt" = NULL, "leaseToken" = NULL, "updatedAt" = now()
    WHERE id = ${attempt.jobId}::uuid AND "leaseToken" = ${attempt.token}::uuid AND status = 'running'`;
  await notifyWorkers(db);
  return released > 0;
}

export async function getJob(db: Db, jobId: string): Promise<JobRow | null> {
  const rows = await db.$queryRaw<JobRow[]>`SELECT * FROM "Job" WHERE id = ${jobId}::uuid`;
  return rows[0] ?? null;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 4000);
  return String(error).slice(0, 4000);
}
