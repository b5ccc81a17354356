import { z } from "zod";
import type { Prisma, PrismaClient } from "../db/generated/client";
import { defineJobKind, type JobPayloadOf } from "../jobs/kind";
import type { JobLease } from "../jobs/lease";
import { type JobRow, enqueueJob, notifyWorkers } from "../jobs/store";
import { enqueueCycleFinishedWebhook } from "../notify/webhook-events";
import { cancelQueuedPolls, enqueuePoll, forgetPollFeeds } from "./continuous";
import { concludedStatus } from "./outcome";
import { clearHandover } from "./state";
import {
  cancelQueuedUnits,
  queueFinalizeIfDone,
  sealCyclePlannedBy,
  type CycleRow,
  type CycleStatus,
} from "./units";

/**
 * Provisioning schedule of a connection, as Entra runs it: after a cycle ends the next incremental one
 * is queued for now + interval, unless the connection is paused (Stop) or provisioning is Off. In
 * continuous mode the next step is a poll of Graph's change feeds instead (lib/cycle/continuous.ts),
 * which queues the cycle as soon as something changed.
 *
 * Every function here locks the Connection row first (SELECT … FOR UPDATE). That one lock orders Start,
 * Stop, Restart, the scheduling of the next cycle and `beginCycle` against each other, so e.g. a cycle
 * ending while Stop commits cannot queue a successor after the pause.
 */

/**
 * The planner of a cycle. One live per connection (its dedupe key); its end seals the cycle's list of
 * units, so the finalizer cannot run before every unit the planner queued is counted.
 */
export const provisioningCycleJob = defineJobKind(
  "provisioning-cycle",
  z
    .object({
      connectionId: z.string().uuid(),
      trigger: z.enum(["schedule", "start", "restart", "config-change", "quarantine-retry", "change"]),
      dryRun: z.boolean().default(false),
      /** Continuous mode: when the poll that queued this cycle saw the change (propagation latency). */
      changeSeenAt: z.iso.datetime().optional(),
    })
    .strict(),
  {
    onEnd: async (tx, end) => {
      await sealCyclePlannedBy(tx, end.jobId, end.status === "failed" ? end.error : undefined);
    },
  },
);

export type CycleTrigger = JobPayloadOf<typeof provisioningCycleJob>["trigger"];

/** The key that keeps one live cycle job per connection. */
export function cycleJobKey(connectionId: string): string {
  return `provisioning-cycle:${connectionId}`;
}

const MIN_INTERVAL_MINUTES = 1;

interface LockedConnection {
  id: string;
  paused: boolean;
  provisioningEnabled: boolean;
  scheduleIntervalMinutes: number;
  scheduleMode: string;
}

async function lockConnection(
  tx: Prisma.TransactionClient,
  connectionId: string,
): Promise<LockedConnection | null> {
  const [row] = await tx.$queryRaw<LockedConnection[]>`
    SELECT id, paused, "provisioningEnabled", "scheduleIntervalMinutes", "scheduleMode"
    FROM "Connection" WHERE id = ${connectionId}::uuid FOR UPDATE`;
  return row ?? null;
}

async function runningCycle(tx: Prisma.TransactionClient, connectionId: string): Promise<CycleRow | null> {
  const [row] = await tx.$queryRaw<CycleRow[]>`
    SELECT * FROM "Cycle" WHERE "connectionId" = ${connectionId}::uuid AND status = 'running' FOR UPDATE`;
  return row ?? null;
}

async function enqueueCycleJob(
  tx: Prisma.TransactionClient,
  connectionId: string,
  trigger: CycleTrigger,
  runAt: Date,
  changeSeenAt?: Date,
): Promise<{ job: JobRow; created: boolean }> {
  return enqueueJob(
    tx,
    provisioningCycleJob,
    {
      connectionId,
      trigger,
      dryRun: false,
      ...(changeSeenAt ? { changeSeenAt: changeSeenAt.toISOString() } : {}),
    },
    { connectionId, runAt, dedupeKey: cycleJobKey(connectionId) },
  );
}

export type ScheduleResult =
  | { scheduled: true; job: JobRow; created: boolean }
  /** Continuous mode: no cycle is scheduled; a poll is (`poll` null when one is live already, or a cycle is). */
  | { scheduled: false; reason: "continuous"; poll: JobRow | null }
  | { scheduled: false; reason: "paused" | "provisioning-off" | "missing" };

/** After a cycle in continuous mode: the first poll comes quickly, since changes cluster. */
const POLL_AFTER_CYCLE_MS = 2_000;

/**
 * Queues the next cycle for now + the connection's interval, or for `notBefore` when that is later (the
 * engine passes the quarantine's next attempt here, which only ever slows the schedule). A cycle job
 * already queued or running is kept as it is.
 */
export async function scheduleNextCycle(
  db: PrismaClient,
  connectionId: string,
  options: { notBefore?: Date; trigger?: CycleTrigger } = {},
): Promise<ScheduleResult> {
  return db.$transaction((tx) => scheduleNextCycleIn(tx, connectionId, options));
}

async function scheduleNextCycleIn(
  tx: Prisma.TransactionClient,
  connectionId: string,
  options: { notBefore?: Date; trigger?: CycleTrigger; runAt?: Date },
): Promise<ScheduleResult> {
  const connection = await lockConnection(tx, connectionId);
  if (!connection) return { scheduled: false, reason: "missing" };
  if (connection.paused) return { scheduled: false, reason: "paused" };
  if (!connection.provisioningEnabled) return { scheduled: false, reason: "provisioning-off" };
  if (connection.scheduleMode === "continuous" && options.runAt === undefined) {
    const runAt = new Date(Math.max(Date.now() + POLL_AFTER_CYCLE_MS, options.notBefore?.getTime() ?? 0));
    return { scheduled: false, reason: "continuous", poll: await enqueuePoll(tx, connectionId, { runAt }) };
  }
  const intervalMs = Math.max(MIN_INTERVAL_MINUTES, connection.scheduleIntervalMinutes) * 60_000;
  const runAt =
    options.runAt ?? new Date(Math.max(Date.now() + intervalMs, options.notBefore?.getTime() ?? 0));
  const { job, created } = await enqueueCycleJob(tx, connectionId, options.trigger ?? "schedule", runAt);
  return { scheduled: true, job, created };
}

/**
 * Continuous mode's cycles, queued by a poll: for a change it saw (with when it saw it), the quarantine's
 * retry (how a quarantined connection finds out it was fixed), or the interval's backstop. A cycle
 * already queued or running is kept as it is.
 */
export async function queueCycleNow(
  tx: Prisma.TransactionClient,
  connectionId: string,
  options: { trigger: Extract<CycleTrigger, "change" | "quarantine-retry" | "schedule">; changeSeenAt?: Date },
): Promise<{ job: JobRow; created: boolean }> {
  return enqueueCycleJob(tx, connectionId, options.trigger, new Date(), options.changeSeenAt);
}

/**
 * After a settings save: a switch to continuous drops the cycle queued for later and polls now; a
 * switch to interval drops the queued poll and queues the next cycle a full interval from now. A cycle
 * that is running is left alone; its end follows the new mode.
 */
export async function applyScheduleMode(tx: Prisma.TransactionClient, connectionId: string): Promise<void> {
  const connection = await lockConnection(tx, connectionId);
  if (!connection) return;
  if (connection.scheduleMode === "continuous") {
    await tx.$executeRaw`
      UPDATE "Job" SET status = 'cancelled', "lastError" = 'cancelled: the connection switched to continuous',
        "finishedAt" = now(), "updatedAt" = now()
      WHERE "connectionId" = ${connectionId}::uuid AND kind = 'provisioning-cycle' AND status = 'queued'
        AND payload->>'trigger' = 'schedule'`;
    await enqueuePoll(tx, connectionId);
    return;
  }
  await cancelQueuedPolls(tx, connectionId);
  const running = await runningCycle(tx, connectionId);
  if (!running) await scheduleNextCycleIn(tx, connectionId, {});
}

export type StartResult =
  | { outcome: "queued" | "moved-to-now"; job: JobRow }
  | { outcome: "already-running"; cycleId: string | null }
  | { outcome: "missing" };

/**
 * Start: clears the pause, turns provisioning On (as Entra's Start button does) and runs a cycle now. A
 * cycle queued for later is moved to now rather than duplicated; a cycle already running is left alone.
 * Concurrent Starts produce one cycle job: the partial unique index allows one live cycle job per
 * connection, and the Connection lock serialises the rest of the decision.
 */
export async function startProvisioning(db: PrismaClient, connectionId: string): Promise<StartResult> {
  return db.$transaction(async (tx) => {
    const connection = await lockConnection(tx, connectionId);
    if (!connection) return { outcome: "missing" };
    await tx.$executeRaw`
      UPDATE "Connection" SET paused = false, "provisioningEnabled" = true, "updatedAt" = now(),
        version = version + CASE WHEN "provisioningEnabled" THEN 0 ELSE 1 END
      WHERE id = ${connectionId}::uuid`;
    const running = await runningCycle(tx, connectionId);
    if (running && !running.stopRequested) return { outcome: "already-running", cycleId: running.id };
    const [moved] = await tx.$queryRaw<JobRow[]>`
      UPDATE "Job" SET "runAt" = now(), payload = jsonb_set(payload, '{trigger}', '"start"'), "updatedAt" = now()
      WHERE "connectionId" = ${connectionId}::uuid AND kind = 'provisioning-cycle' AND status = 'queued'
      RETURNING *`;
    if (moved) {
      await notifyWorkers(tx);
      return { outcome: "moved-to-now", job: moved };
    }
    const { job } = await enqueueCycleJob(tx, connectionId, "start", new Date());
    // The planner of a cycle that is still stopping holds the one live cycle-job slot; when that cycle
    // ends, finishCycle sees the pause cleared and queues the Start's cycle at once.
    if (job.status === "running") return { outcome: "already-running", cycleId: running?.id ?? null };
    return { outcome: "queued", job };
  });
}

export interface StopResult {
  found: boolean;
  /** The running cycle that will end (status "stopped") once its running units finish. */
  stoppingCycleId: string | null;
  cancelledUnits: number;
  cancelledCycleJobs: number;
}

/**
 * Stop: pauses the connection. The units running now finish; queued units of the running cycle and any
 * queued cycle are cancelled; nothing new starts and no cycle is scheduled until Start.
 */
export async function stopProvisioning(db: PrismaClient, connectionId: string): Promise<StopResult> {
  return db.$transaction(async (tx) => {
    const connection = await lockConnection(tx, connectionId);
    if (!connection) return { found: false, stoppingCycleId: null, cancelledUnits: 0, cancelledCycleJobs: 0 };
    await tx.$executeRaw`UPDATE "Connection" SET paused = true, "updatedAt" = now() WHERE id = ${connectionId}::uuid`;
    return { found: true, ...(await haltCycles(tx, connectionId)) };
  });
}

async function haltCycles(
  tx: Prisma.TransactionClient,
  connectionId: string,
): Promise<Omit<StopResult, "found">> {
  await cancelQueuedPolls(tx, connectionId);
  const cancelledCycleJobs = await tx.$executeRaw`
    UPDATE "Job" SET status = 'cancelled', "lastError" = 'cancelled: provisioning stopped', "finishedAt" = now(),
      "updatedAt" = now()
    WHERE "connectionId" = ${connectionId}::uuid AND kind = 'provisioning-cycle' AND status = 'queued'`;
  const running = await runningCycle(tx, connectionId);
  if (!running) return { stoppingCycleId: null, cancelledUnits: 0, cancelledCycleJobs };
  await tx.$executeRaw`UPDATE "Cycle" SET "stopRequested" = true WHERE id = ${running.id}::uuid`;
  const cancelledUnits = await cancelQueuedUnits(tx, running.id);
  await queueFinalizeIfDone(tx, running.id);
  return { stoppingCycleId: running.id, cancelledUnits, cancelledCycleJobs };
}

export interface RestartOptions {
  /** Forget the Graph delta links: the next cycle is an initial cycle that reads everything. */
  clearDeltaLinks?: boolean;
  /** Drop escrowed (failed, awaiting retry) objects. */
  clearEscrows?: boolean;
  /** Leave quarantine: the next cycle runs now rather than at the quarantine's next attempt. */
  clearQuarantine?: boolean;
}

/**
 * Restart: stops the running cycle as Stop does (its running units finish), clears what the caller
 * asks, clears the pause and runs a cycle now.
 */
export async function restartProvisioning(
  db: PrismaClient,
  connectionId: string,
  options: RestartOptions = {},
): Promise<StartResult> {
  return db.$transaction(async (tx) => {
    const connection = await lockConnection(tx, connectionId);
    if (!connection) return { outcome: "missing" };
    const halted = await haltCycles(tx, connectionId);
    await tx.$executeRaw`
      UPDATE "Connection" SET paused = false, "provisioningEnabled" = true, "updatedAt" = now(),
        version = version + CASE WHEN "provisioningEnabled" THEN 0 ELSE 1 END,
        "usersDeltaLink" = CASE WHEN ${options.clearDeltaLinks ?? false} THEN NULL ELSE "usersDeltaLink" END,
        "groupsDeltaLink" = CASE WHEN ${options.clearDeltaLinks ?? false} THEN NULL ELSE "groupsDeltaLink" END
      WHERE id = ${connectionId}::uuid`;
    if (options.clearDeltaLinks) await forgetPollFeeds(tx, connectionId);
    if (options.clearQuarantine) {
      await tx.$executeRaw`
        UPDATE "Connection" SET "quarantineReason" = NULL, "quarantineSeriesBegan" = NULL,
          "quarantineCurrentBegan" = NULL, "quarantineNextAttempt" = NULL, "quarantineSeriesCount" = 0,
          "quarantineError" = NULL
        WHERE id = ${connectionId}::uuid`;
    }
    if (options.clearEscrows)
      await tx.$executeRaw`DELETE FROM "Escrow" WHERE "connectionId" = ${connectionId}::uuid`;
    const { job } = await enqueueCycleJob(tx, connectionId, "restart", new Date());
    if (job.status === "running") return { outcome: "already-running", cycleId: halted.stoppingCycleId };
    return { outcome: "queued", job };
  });
}

export interface FinishCycleOptions {
  /** Outcome decided by the engine; default "failed" when the planner failed, else "succeeded" (see outcome.ts). */
  status?: "succeeded" | "failed";
  error?: Prisma.InputJsonValue;
  counts?: Prisma.InputJsonValue;
  /** Quarantine: do not run the next cycle before this (only ever later than now + interval). */
  nextAttemptAt?: Date;
  /** The finalizer's lease: a lapsed finalizer cannot end the cycle a second time. */
  lease?: JobLease;
  /**
   * Called in the transaction that ends the cycle, with its final status: what should follow a cycle's
   * end (a reconcile report) is queued exactly when the end commits.
   */
  afterEnd?: (tx: Prisma.TransactionClient, ended: EndedCycle) => Promise<void>;
}

export interface EndedCycle {
  cycleId: string;
  connectionId: string;
  type: CycleRow["type"];
  status: Exclude<CycleStatus, "running">;
  dryRun: boolean;
}

export type FinishCycleResult =
  { finished: false } | { finished: true; status: Exclude<CycleStatus, "running">; next: ScheduleResult };

/**
 * Ends a cycle (called by the cycle-finalize handler) and queues the next one. A cycle whose stop was
 * requested ends "stopped" whatever the caller says. Idempotent: a finalizer re-run after a crash finds
 * the cycle ended and does nothing.
 */
export async function finishCycle(
  db: PrismaClient,
  cycleId: string,
  options: FinishCycleOptions = {},
): Promise<FinishCycleResult> {
  const transaction = <T>(work: (tx: Prisma.TransactionClient) => Promise<T>) =>
    options.lease ? options.lease.fenced(work) : db.$transaction(work);
  return transaction(async (tx): Promise<FinishCycleResult> => {
    const [cycle] = await tx.$queryRaw<CycleRow[]>`SELECT * FROM "Cycle" WHERE id = ${cycleId}::uuid`;
    if (!cycle) return { finished: false };
    // Connection before Cycle, the order every other path takes, so two transactions never deadlock.
    const connection = await lockConnection(tx, cycle.connectionId);
    const [locked] = await tx.$queryRaw<
      CycleRow[]
    >`SELECT * FROM "Cycle" WHERE id = ${cycleId}::uuid FOR UPDATE`;
    if (!connection || !locked || locked.status !== "running") return { finished: false };
    const status = concludedStatus({
      stopRequested: locked.stopRequested,
      requested: options.status,
      hasError: Boolean(options.error ?? locked.error),
      counts: options.counts ?? locked.counts,
    });
    await tx.$executeRaw`
      UPDATE "Cycle" SET status = ${status}, "endedAt" = now(),
        error = COALESCE(${options.error === undefined ? null : JSON.stringify(options.error)}::jsonb, error),
        counts = COALESCE(${options.counts === undefined ? null : JSON.stringify(options.counts)}::jsonb, counts)
      WHERE id = ${cycleId}::uuid`;
    // What the planner handed over is spent; a large tenant's would otherwise stay for every cycle.
    await clearHandover(tx, cycleId);
    // In this transaction: the event exists if and only if the cycle's end committed.
    await enqueueCycleFinishedWebhook(tx, cycleId);
    await options.afterEnd?.(tx, {
      cycleId,
      connectionId: cycle.connectionId,
      type: locked.type,
      status,
      dryRun: locked.dryRun,
    });
    // A stopped cycle queues nothing, unless Start or Restart cleared the pause while it was stopping:
    // then the admin asked for a cycle now.
    const next =
      status === "stopped" && !connection.paused
        ? await scheduleNextCycleIn(tx, cycle.connectionId, { trigger: "start", runAt: new Date() })
        : status === "stopped"
          ? ({ scheduled: false, reason: "paused" } as const)
          : await scheduleNextCycleIn(tx, cycle.connectionId, { notBefore: options.nextAttemptAt });
    return { finished: true, status, next };
  });
}

export interface ProvisioningState {
  paused: boolean;
  provisioningEnabled: boolean;
  /** The running cycle (possibly stopping), else the last one; status "stopped" after Stop. */
  currentCycle: Pick<
    CycleRow,
    | "id"
    | "status"
    | "stopRequested"
    | "completedUnits"
    | "failedUnits"
    | "cancelledUnits"
    | "totalUnits"
    | "startedAt"
    | "endedAt"
  > | null;
  nextCycleAt: Date | null;
}

/** What the console shows: running/stopping/stopped, progress in units, and when the next cycle runs. */
export async function getProvisioningState(
  db: PrismaClient,
  connectionId: string,
): Promise<ProvisioningState | null> {
  const [row] = await db.$queryRaw<
    {
      paused: boolean;
      provisioningEnabled: boolean;
      cycle: ProvisioningState["currentCycle"] | null;
      nextCycleAt: Date | null;
    }[]
  >`
    SELECT c.paused, c."provisioningEnabled",
      (SELECT jsonb_build_object('id', y.id, 'status', y.status, 'stopRequested', y."stopRequested",
              'completedUnits', y."completedUnits", 'failedUnits', y."failedUnits",
              'cancelledUnits', y."cancelledUnits", 'totalUnits', y."totalUnits",
              'startedAt', y."startedAt", 'endedAt', y."endedAt")
       FROM "Cycle" y WHERE y."connectionId" = c.id
       ORDER BY (y.status = 'running') DESC, y."startedAt" DESC LIMIT 1) AS cycle,
      (SELECT min(j."runAt") FROM "Job" j
       WHERE j."connectionId" = c.id AND j.kind = 'provisioning-cycle' AND j.status = 'queued') AS "nextCycleAt"
    FROM "Connection" c WHERE c.id = ${connectionId}::uuid`;
  if (!row) return null;
  const cycle = row.cycle
    ? {
        ...row.cycle,
        startedAt: new Date(row.cycle.startedAt as unknown as string),
        endedAt: row.cycle.endedAt ? new Date(row.cycle.endedAt as unknown as string) : null,
      }
    : null;
  return {
    paused: row.paused,
    provisioningEnabled: row.provisioningEnabled,
    currentCycle: cycle,
    nextCycleAt: row.nextCycleAt,
  };
}
