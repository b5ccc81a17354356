import type { Prisma, PrismaClient } from "../db/generated/client";
import { statementBatches } from "../db/statement-batches";
import { concludedStatus, type EndedCycleStatus } from "./outcome";

/**
 * The Cycle row's state between its start (units.ts `beginCycle`) and its end (schedule.ts
 * `finishCycle`): what the planner, the units and the finalizer record on it. Every write of a running
 * cycle's row goes through this module, units.ts or schedule.ts; callers pass the transaction of their
 * own fenced writer, so an attempt that lost its lease records nothing.
 */

type Tx = Prisma.TransactionClient;

/** The planner's page progress, before any unit exists (then units count themselves). */
export async function recordPlanningProgress(tx: Tx, cycleId: string, completed: number, total: number) {
  await tx.$executeRaw`UPDATE "Cycle" SET "completedUnits" = ${completed}, "totalUnits" = ${total}
    WHERE id = ${cycleId}::uuid AND status = 'running'`;
}

/**
 * The Cycle's unit counters recomputed from its CycleUnit rows (the rows are the truth). The Cycle row
 * is locked first and counted in a later statement: a unit's outcome updates its CycleUnit row and then
 * the Cycle's counter in one transaction, and a count taken before that commits but written after it
 * would put the older count back, losing the completion (a cycle then waits for its finalizer forever).
 */
export async function recountUnits(tx: Tx, cycleId: string) {
  await tx.$queryRaw`SELECT 1 FROM "Cycle" WHERE id = ${cycleId}::uuid FOR UPDATE`;
  await tx.$executeRaw`
    UPDATE "Cycle" c SET
      "totalUnits" = u.total, "completedUnits" = u.completed, "failedUnits" = u.failed,
      "cancelledUnits" = u.cancelled
    FROM (SELECT count(*)::int AS total,
                 count(*) FILTER (WHERE status = 'completed')::int AS completed,
                 count(*) FILTER (WHERE status = 'failed')::int AS failed,
                 count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled
          FROM "CycleUnit" WHERE "cycleId" = ${cycleId}::uuid) AS u
    WHERE c.id = ${cycleId}::uuid AND c.status = 'running'`;
}

/**
 * A planner run again after its earlier attempt lost the lease: the units that attempt queued and that
 * were never claimed are withdrawn (planning again queues their objects anew), and what it recorded is
 * forgotten. Units that ran keep their work, and so does a unit handed back by a draining worker
 * (queued again, but claimed before: it may have created users, which its next run counts).
 */
export async function withdrawUnstartedUnits(tx: Tx, cycleId: string) {
  const withdrawn = await tx.$queryRaw<{ id: string }[]>`
    DELETE FROM "Job"
    WHERE "cycleId" = ${cycleId}::uuid AND kind = 'cycle-unit' AND status = 'queued' AND claims = 0
    RETURNING id`;
  if (withdrawn.length)
    await tx.$executeRaw`DELETE FROM "CycleUnit" WHERE "jobId" = ANY(${withdrawn.map((row) => row.id)}::uuid[])`;
  await tx.$executeRaw`UPDATE "Cycle" SET error = NULL WHERE id = ${cycleId}::uuid`;
  await clearHandover(tx, cycleId);
  await recountUnits(tx, cycleId);
}

/** Units of the cycle in one of these job states. */
export async function countUnitsIn(
  db: PrismaClient,
  cycleId: string,
  statuses: readonly ("queued" | "running")[],
): Promise<number> {
  const [row] = await db.$queryRaw<{ units: number }[]>`
    SELECT count(*)::int AS units FROM "Job"
    WHERE "cycleId" = ${cycleId}::uuid AND kind = 'cycle-unit' AND status = ANY(${[...statuses]}::text[])`;
  return row?.units ?? 0;
}

/**
 * What the planner of a fanned-out cycle hands to its finalizer: a small summary on the Cycle row and
 * the groups' work a slice per row. The slices go in bounded statements, as units do: one statement of
 * a 100,000-user cycle's member lists (11 MB) grew the worker's query engine memory by over 100 MB for
 * good.
 */
export async function recordHandover(
  tx: Tx,
  cycleId: string,
  handover: unknown,
  groupWork: readonly unknown[],
) {
  const updated = await tx.$executeRaw`
    UPDATE "Cycle" SET handover = ${JSON.stringify(handover)}::jsonb
    WHERE id = ${cycleId}::uuid AND status = 'running'`;
  await tx.$executeRaw`DELETE FROM "CycleGroupWork" WHERE "cycleId" = ${cycleId}::uuid`;
  if (updated === 0) return;
  const slices = groupWork.map((slice) => JSON.stringify(slice));
  for (const [start, end] of statementBatches(slices))
    await tx.$executeRaw`
      INSERT INTO "CycleGroupWork" ("cycleId", slice, payload)
      SELECT ${cycleId}::uuid, ${start}::int + s.ordinal::int - 1, s.payload
      FROM unnest(${slices.slice(start, end)}::jsonb[]) WITH ORDINALITY AS s(payload, ordinal)`;
}

/** One slice of the groups' work recorded by recordHandover; null when there is no such slice. */
export async function readGroupWork(db: PrismaClient, cycleId: string, slice: number): Promise<unknown> {
  const [row] = await db.$queryRaw<{ payload: unknown }[]>`
    SELECT payload FROM "CycleGroupWork" WHERE "cycleId" = ${cycleId}::uuid AND slice = ${slice}`;
  return row?.payload ?? null;
}

/** Forgets what a planner handed over: the cycle ended, or its planner runs again. */
export async function clearHandover(tx: Tx, cycleId: string) {
  await tx.$executeRaw`UPDATE "Cycle" SET handover = NULL WHERE id = ${cycleId}::uuid`;
  await tx.$executeRaw`DELETE FROM "CycleGroupWork" WHERE "cycleId" = ${cycleId}::uuid`;
}

/** How many users the cycle read from Entra ID, against the count it was compared with. */
export async function recordSourceUsers(
  tx: Tx,
  cycleId: string,
  source: { usersRead: number | null; usersBefore: number | null; held: boolean },
) {
  await tx.cycle.update({
    where: { id: cycleId },
    data: {
      sourceUsersRead: source.usersRead,
      sourceUsersBefore: source.usersBefore,
      sourceShrinkHeld: source.held,
    },
  });
}

/** The first error of a running cycle wins: a unit's quarantine condition, for the finalizer to act on. */
export async function recordCycleError(tx: Tx, cycleId: string, error: unknown) {
  await tx.$executeRaw`
    UPDATE "Cycle" SET error = COALESCE(error, ${JSON.stringify(error)}::jsonb)
    WHERE id = ${cycleId}::uuid AND status = 'running'`;
}

/**
 * The planner did all the cycle's work itself: its outcome is recorded and every unit counted done, so
 * the finalizer is queued when the planner's job ends.
 */
export async function recordPlannerOutcome(
  tx: Tx,
  cycleId: string,
  outcome: { counts?: Prisma.InputJsonValue; error?: Prisma.InputJsonValue },
) {
  await tx.$executeRaw`
    UPDATE "Cycle" SET "completedUnits" = GREATEST("completedUnits", "totalUnits"),
      "totalUnits" = GREATEST("completedUnits", "totalUnits"),
      counts = COALESCE(${outcome.counts === undefined ? null : JSON.stringify(outcome.counts)}::jsonb, counts),
      error = COALESCE(${outcome.error === undefined ? null : JSON.stringify(outcome.error)}::jsonb, error)
    WHERE id = ${cycleId}::uuid AND status = 'running'`;
}

/** A dry run ends its own row: it schedules nothing, and its status follows the same rule as a cycle's. */
export async function endDryRun(
  db: PrismaClient,
  cycleId: string,
  options: { status: "succeeded" | "failed"; counts?: Prisma.InputJsonValue; error?: Prisma.InputJsonValue },
): Promise<EndedCycleStatus> {
  const stop = await db.cycle.findUnique({
    where: { id: cycleId },
    select: { stopRequested: true, counts: true },
  });
  const status = concludedStatus({
    stopRequested: stop?.stopRequested ?? false,
    requested: options.status,
    hasError: options.error !== undefined,
    counts: options.counts ?? stop?.counts,
  });
  await db.cycle.updateMany({
    where: { id: cycleId, status: "running" },
    data: {
      status,
      endedAt: new Date(),
      ...(options.counts !== undefined ? { counts: options.counts } : {}),
      ...(options.error !== undefined ? { error: options.error } : {}),
    },
  });
  return status;
}
