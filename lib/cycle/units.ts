import { z } from "zod";
import { Prisma, type PrismaClient } from "../db/generated/client";
import { defineJobKind, parseJobPayload } from "../jobs/kind";
import type { JobLease } from "../jobs/lease";
import { enqueueJob, notifyWorkers } from "../jobs/store";
import { statementBatches } from "../db/statement-batches";
import { recountUnits } from "./state";

/**
 * A provisioning cycle split into units that any worker may run in parallel.
 *
 * Life of a cycle:
 * This module owns a cycle's unit bookkeeping (the Cycle row's unit counters, CycleUnit rows and the
 * unit and finalizer jobs); lib/cycle/schedule.ts owns its start and end.
 *
 * 1. A `provisioning-cycle` job (the planner) calls `beginCycle`, then `enqueueCycleUnits` once or
 *    several times. When the planner's job ends (succeeded, failed or cancelled) the store seals the
 *    cycle's list of units in the same transaction: no `sealCycle` call to forget, and no window in which
 *    a fast unit could look like the last one while the planner is still adding units.
 * 2. Each `cycle-unit` job's outcome is counted into the Cycle row by the kind's end hook, in the same
 *    transaction as the job's own status change (CycleUnit.status makes that idempotent across retries and
 *    take-overs). A unit may enqueue follow-up units (the next page) before it finishes.
 * 3. Once the cycle is sealed and every unit has ended, one `cycle-finalize` job is enqueued, exactly
 *    once: `finalizeQueuedAt IS NULL` is the guard, checked and set under the Cycle row lock.
 * 4. The finalize handler calls `finishCycle` (schedule.ts), which records the status and queues the
 *    next cycle.
 */

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * One unit (page of objects) of a cycle; enqueued by `enqueueCycleUnits`, never directly, because the
 * unit's accounting row is written in the same transaction. Its end is counted into its cycle.
 */
export const cycleUnitJob = defineJobKind(
  "cycle-unit",
  z
    .object({
      connectionId: z.string().uuid(),
      cycleId: z.string().uuid(),
      unitIndex: z.number().int().min(0),
      /** What the engine does in this unit (e.g. "users"). */
      phase: z.string().min(1).max(64),
      /** Engine-defined input of the unit: a page cursor, a list of operations, … */
      input: z.record(z.string(), z.unknown()).default({}),
    })
    .strict(),
  {
    onEnd: async (tx, end) => {
      await recordCycleUnitOutcome(tx, end.jobId, end.status === "succeeded" ? "completed" : end.status);
    },
  },
);

/** Enqueued exactly once, when the last unit of a cycle finished (or Stop cancelled the rest). */
export const cycleFinalizeJob = defineJobKind(
  "cycle-finalize",
  z.object({ connectionId: z.string().uuid(), cycleId: z.string().uuid() }).strict(),
);

export type CycleType = "initial" | "incremental";
export type CycleStatus = "running" | "succeeded" | "succeededWithFailures" | "failed" | "stopped";
export type CycleUnitOutcome = "completed" | "failed" | "cancelled";

export interface CycleRow {
  id: string;
  connectionId: string;
  type: CycleType;
  status: CycleStatus;
  stopRequested: boolean;
  dryRun: boolean;
  trigger: string;
  jobId: string | null;
  startedAt: Date;
  endedAt: Date | null;
  completedUnits: number;
  failedUnits: number;
  cancelledUnits: number;
  totalUnits: number;
  unitsSealed: boolean;
  finalizeQueuedAt: Date | null;
  counts: unknown;
  error: unknown;
}

export type BeginCycleResult =
  | { started: true; cycle: CycleRow; resumed: boolean }
  | {
      started: false;
      reason: "paused" | "provisioning-off" | "already-running" | "missing";
      cycle?: CycleRow;
    };

/** Thrown by a planner that found another cycle still running; transient, so the job retries later. */
export class CycleAlreadyRunningError extends Error {
  constructor(readonly connectionId: string) {
    super(`A provisioning cycle is still running for connection ${connectionId}; retrying later.`);
    this.name = "CycleAlreadyRunningError";
  }
}

/**
 * Creates the Cycle row for a planner job. The partial unique index "Cycle_one_running_per_connection"
 * makes a second running cycle impossible whatever the interleaving; the Connection row lock orders
 * this against Stop, so a planner claimed just before Stop committed does not start a cycle after it.
 * A planner job re-run after its worker died gets its own cycle back (`resumed`).
 */
export async function beginCycle(
  db: PrismaClient,
  options: {
    connectionId: string;
    jobId: string;
    type: CycleType;
    trigger: string;
    dryRun?: boolean;
    /** An admin's explicit one-off (preview, apply) runs even while provisioning is off or paused. */
    ignoreSchedule?: boolean;
    /** Continuous mode: when the poll saw the change this cycle was queued for. */
    changeSeenAt?: Date;
  },
): Promise<BeginCycleResult> {
  return db.$transaction(async (tx) => {
    const [connection] = await tx.$queryRaw<{ paused: boolean; provisioningEnabled: boolean }[]>`
      SELECT paused, "provisioningEnabled" FROM "Connection" WHERE id = ${options.connectionId}::uuid FOR UPDATE`;
    if (!connection) return { started: false, reason: "missing" };
    const [running] = await tx.$queryRaw<CycleRow[]>`
      SELECT * FROM "Cycle" WHERE "connectionId" = ${options.connectionId}::uuid AND status = 'running'`;
    if (running) {
      if (running.jobId === options.jobId) return { started: true, cycle: running, resumed: true };
      return { started: false, reason: "already-running", cycle: running };
    }
    if (connection.paused && !options.ignoreSchedule) return { started: false, reason: "paused" };
    if (!connection.provisioningEnabled && !options.ignoreSchedule)
      return { started: false, reason: "provisioning-off" };
    const [cycle] = await tx.$queryRaw<CycleRow[]>`
      INSERT INTO "Cycle" (id, "connectionId", type, status, trigger, "dryRun", "jobId", "changeSeenAt")
      VALUES (gen_random_uuid(), ${options.connectionId}::uuid, ${options.type}, 'running', ${options.trigger},
              ${options.dryRun ?? false}, ${options.jobId}::uuid, ${options.changeSeenAt ?? null}::timestamptz)
      RETURNING *`;
    await tx.$executeRaw`UPDATE "Connection" SET "lastCycleId" = ${cycle!.id}::uuid WHERE id = ${options.connectionId}::uuid`;
    return { started: true, cycle: cycle!, resumed: false };
  });
}

export interface CycleUnitInput {
  /** What the engine does in this unit, e.g. "users". */
  phase: string;
  /** Engine-defined input (page cursor, object ids, …), stored in the job payload. */
  input?: Record<string, unknown>;
  priority?: number;
}

export type EnqueueUnitsResult =
  | { accepted: true; unitIndexes: number[]; jobIds: string[]; totalUnits: number }
  | { accepted: false; reason: "stopped" | "not-running" };

/**
 * Adds units to a running cycle. Refused once Stop was requested, the cycle ended, or its finalizer was
 * queued. Taking the Cycle row lock first (the UPDATE) serialises this against Stop and against unit
 * completions, so `totalUnits` is never behind the jobs that exist.
 */
export async function enqueueCycleUnits(
  db: PrismaClient,
  cycleId: string,
  units: readonly CycleUnitInput[],
  options: {
    maxAttempts?: number;
    /** The planner's lease: a lapsed planner adds no units. */ lease?: JobLease;
  } = {},
): Promise<EnqueueUnitsResult> {
  const [head] = await db.$queryRaw<{ connectionId: string }[]>`
    SELECT "connectionId" FROM "Cycle" WHERE id = ${cycleId}::uuid`;
  // Validating and serialising the payloads is the slow part for a big cycle (100,000 users make tens of
  // megabytes of JSON), so it happens before the transaction, which then only writes. unitIndex is known
  // only inside it; the SQL stamps it on each payload.
  const payloads = head
    ? units.map((unit) =>
        JSON.stringify(
          parseJobPayload(cycleUnitJob, {
            connectionId: head.connectionId,
            cycleId,
            unitIndex: 0,
            phase: unit.phase,
            input: unit.input ?? {},
          }),
        ),
      )
    : [];
  const priorities = units.map((unit) => unit.priority ?? 0);
  // Prisma's default 5 s is too short for a thousand units on a busy host; the row lock it holds only
  // delays Stop and unit completions of this one cycle.
  const timeoutMs = Math.max(5_000, 30_000 + units.length * 50);
  const transaction = <T>(work: (tx: Prisma.TransactionClient) => Promise<T>) =>
    options.lease
      ? options.lease.fenced(work, { timeoutMs })
      : db.$transaction(work, { timeout: timeoutMs, maxWait: 10_000 });
  return transaction(async (tx): Promise<EnqueueUnitsResult> => {
    const [cycle] = await tx.$queryRaw<
      { connectionId: string; totalUnits: number; stopRequested: boolean }[]
    >`
        UPDATE "Cycle" SET "totalUnits" = "totalUnits" + ${units.length}
        WHERE id = ${cycleId}::uuid AND status = 'running' AND NOT "stopRequested" AND "finalizeQueuedAt" IS NULL
        RETURNING "connectionId", "totalUnits", "stopRequested"`;
    if (!cycle) {
      const [existing] = await tx.$queryRaw<{ stopRequested: boolean }[]>`
          SELECT "stopRequested" FROM "Cycle" WHERE id = ${cycleId}::uuid`;
      return { accepted: false, reason: existing?.stopRequested ? "stopped" : "not-running" };
    }
    if (units.length === 0)
      return { accepted: true, unitIndexes: [], jobIds: [], totalUnits: cycle.totalUnits };
    // After the next index in use, not the count: a re-run planner withdraws the queued units an earlier
    // attempt left, and those that had started keep their indexes, so the indexes can have gaps. (The
    // Cycle row's lock, taken above, keeps two callers from choosing the same ones.)
    const [{ next: firstIndex }] = (await tx.$queryRaw<{ next: number }[]>`
        SELECT COALESCE(MAX("unitIndex") + 1, 0)::int AS next FROM "CycleUnit" WHERE "cycleId" = ${cycleId}::uuid`) as [
      { next: number },
    ];
    const jobs: { id: string; unitIndex: number }[] = [];
    for (const [offset, end] of statementBatches(payloads)) {
      const inserted = await tx.$queryRaw<{ id: string; unitIndex: number }[]>`
          INSERT INTO "Job" (id, kind, "connectionId", "cycleId", status, priority, "runAt", "maxAttempts", payload, "updatedAt")
          SELECT gen_random_uuid(), 'cycle-unit', ${cycle.connectionId}::uuid, ${cycleId}::uuid, 'queued', p.priority, now(),
                 ${options.maxAttempts ?? 5},
                 jsonb_set(p.payload, '{unitIndex}', to_jsonb(${firstIndex + offset}::int + p.ordinal::int - 1)),
                 now()
          FROM unnest(${payloads.slice(offset, end)}::jsonb[], ${priorities.slice(offset, end)}::int[])
            WITH ORDINALITY AS p(payload, priority, ordinal)
          RETURNING id, (payload->>'unitIndex')::int AS "unitIndex"`;
      jobs.push(...inserted);
    }
    await tx.$executeRaw`
        INSERT INTO "CycleUnit" ("cycleId", "unitIndex", "jobId")
        SELECT ${cycleId}::uuid, u."unitIndex", u."jobId"
        FROM unnest(${jobs.map((job) => job.unitIndex)}::int[], ${jobs.map((job) => job.id)}::uuid[]) AS u("unitIndex", "jobId")`;
    // Delivered at commit, so no worker wakes up to find the jobs not yet visible.
    await notifyWorkers(tx);
    const ordered = [...jobs].sort((a, b) => a.unitIndex - b.unitIndex);
    return {
      accepted: true as const,
      unitIndexes: ordered.map((job) => job.unitIndex),
      jobIds: ordered.map((job) => job.id),
      totalUnits: cycle.totalUnits,
    };
  });
}

/**
 * Counts a unit's outcome into its cycle. Called by the job store inside the transaction that changes
 * the unit job's status, so a crash cannot separate the two. The `status = 'pending'` guard makes a
 * second report of the same unit (retry, take-over, a late worker) count nothing.
 */
export async function recordCycleUnitOutcome(
  tx: Prisma.TransactionClient,
  jobId: string,
  outcome: CycleUnitOutcome,
): Promise<{ cycleId: string; finalizeQueued: boolean } | null> {
  const column = { completed: "completedUnits", failed: "failedUnits", cancelled: "cancelledUnits" }[outcome];
  const rows = await tx.$queryRaw<{ id: string }[]>`
    WITH unit AS (
      UPDATE "CycleUnit" SET status = ${outcome}, "finishedAt" = now()
      WHERE "jobId" = ${jobId}::uuid AND status = 'pending'
      RETURNING "cycleId"
    )
    UPDATE "Cycle" AS c SET ${Prisma.raw(`"${column}" = c."${column}" + 1`)}
    FROM unit WHERE c.id = unit."cycleId"
    RETURNING c.id`;
  const cycleId = rows[0]?.id;
  if (!cycleId) return null;
  return { cycleId, finalizeQueued: await queueFinalizeIfDone(tx, cycleId) };
}

/** The planner job ended: its cycle has all the units it will get from the planner. */
export async function sealCyclePlannedBy(tx: Prisma.TransactionClient, plannerJobId: string, error?: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Cycle" SET "unitsSealed" = true,
      error = CASE WHEN ${error ?? null}::text IS NULL THEN error ELSE COALESCE(error, jsonb_build_object('message', ${error ?? null}::text)) END
    WHERE "jobId" = ${plannerJobId}::uuid AND status = 'running' AND NOT "unitsSealed"
    RETURNING id`;
  for (const row of rows) await queueFinalizeIfDone(tx, row.id);
}

/**
 * Enqueues the cycle's finalizer if the cycle is sealed and every unit ended. The conditional UPDATE
 * both tests and claims the right to enqueue: of any number of concurrent callers (last units finishing
 * on different hosts, Stop cancelling the rest) exactly one sees a row come back.
 */
export async function queueFinalizeIfDone(tx: Prisma.TransactionClient, cycleId: string): Promise<boolean> {
  const [cycle] = await tx.$queryRaw<{ connectionId: string }[]>`
    UPDATE "Cycle" SET "finalizeQueuedAt" = now()
    WHERE id = ${cycleId}::uuid AND status = 'running' AND "finalizeQueuedAt" IS NULL AND "unitsSealed"
      AND "completedUnits" + "failedUnits" + "cancelledUnits" >= "totalUnits"
    RETURNING "connectionId"`;
  if (!cycle) return false;
  await enqueueJob(
    tx,
    cycleFinalizeJob,
    { connectionId: cycle.connectionId, cycleId },
    { connectionId: cycle.connectionId, cycleId, priority: 10, dedupeKey: `cycle-finalize:${cycleId}` },
  );
  return true;
}

/**
 * The safety net under the unit accounting. A sealed cycle whose units have all ended but whose
 * finalizer was never queued (its counters disagree with its CycleUnit rows: a bug, as a lost count
 * once was) would stay running forever and hold back every later cycle of its connection. Workers call
 * this every minute: such a cycle is recounted from its rows and, when that shows it done, finalized.
 * Safe beside the normal path: both go through queueFinalizeIfDone, which queues at most once.
 */
export async function settleStalledCycles(db: PrismaClient): Promise<string[]> {
  const stalled = await db.$queryRaw<{ id: string }[]>`
    SELECT c.id FROM "Cycle" c
    WHERE c.status = 'running' AND c."unitsSealed" AND c."finalizeQueuedAt" IS NULL
      AND NOT EXISTS (SELECT 1 FROM "CycleUnit" u WHERE u."cycleId" = c.id AND u.status = 'pending')`;
  const settled: string[] = [];
  for (const { id } of stalled) {
    const queued = await db.$transaction(async (tx) => {
      await recountUnits(tx, id);
      return queueFinalizeIfDone(tx, id);
    });
    if (queued) settled.push(id);
  }
  return settled;
}

/**
 * Cancels the cycle's queued units (Stop, Restart). Running units are left to finish: the worker checks
 * `isStopRequested` before it starts a unit, so a unit claimed in the meantime cancels itself.
 */
export async function cancelQueuedUnits(tx: Prisma.TransactionClient, cycleId: string): Promise<number> {
  const cancelled = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Job" SET status = 'cancelled', "lastError" = 'cancelled: provisioning stopped', "finishedAt" = now(),
      "updatedAt" = now()
    WHERE "cycleId" = ${cycleId}::uuid AND kind = 'cycle-unit' AND status = 'queued'
    RETURNING id`;
  if (cancelled.length === 0) return 0;
  const ids = cancelled.map((row) => row.id);
  const units = await tx.$executeRaw`
    UPDATE "CycleUnit" SET status = 'cancelled', "finishedAt" = now()
    WHERE "jobId" = ANY(${ids}::uuid[]) AND status = 'pending'`;
  await tx.$executeRaw`UPDATE "Cycle" SET "cancelledUnits" = "cancelledUnits" + ${units} WHERE id = ${cycleId}::uuid`;
  return units;
}

/** True when the cycle's units should not start (Stop or Restart was requested, or the cycle ended). */
export async function isStopRequested(db: Db, cycleId: string): Promise<boolean> {
  const [row] = await db.$queryRaw<{ stop: boolean }[]>`
    SELECT ("stopRequested" OR status <> 'running') AS stop FROM "Cycle" WHERE id = ${cycleId}::uuid`;
  return row?.stop ?? true;
}

/**
 * A claimed unit of a stopping cycle is cancelled unrun: Stop cancels queued units, but a unit claimed a
 * moment before, or re-queued for a retry, must not start either ("the running unit finishes, nothing
 * new starts"). For a registration's `cancelBeforeStart`.
 */
export function cancelUnitOfStoppedCycle(db: Db) {
  return async (job: { cycleId: string | null }): Promise<string | null> =>
    job.cycleId && (await isStopRequested(db, job.cycleId)) ? "cancelled: provisioning stopped" : null;
}

export async function getCycle(db: Db, cycleId: string): Promise<CycleRow | null> {
  const [row] = await db.$queryRaw<CycleRow[]>`SELECT * FROM "Cycle" WHERE id = ${cycleId}::uuid`;
  return row ?? null;
}
