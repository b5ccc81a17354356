import { z } from "zod";
import type { Prisma } from "../db/generated/client";
import { defineJobKind } from "../jobs/kind";
import { enqueueJob, type JobRow } from "../jobs/store";

/**
 * Continuous mode's schedule: instead of a cycle every N minutes, a `provisioning-poll` job asks
 * Microsoft Graph's change feeds whether anything changed (lib/sync/change-probe.ts) and queues an
 * incremental cycle as soon as something did; the cycle's end queues the next poll. One poll per
 * connection is live at a time (its dedupe key), and never while a cycle is queued or running, so two
 * workers never act on the same change.
 *
 * This module is the only writer of the poll's rows (the poll columns of Connection and its Job rows).
 */

export const SCHEDULE_MODES = ["continuous", "interval"] as const;
export type ScheduleMode = (typeof SCHEDULE_MODES)[number];

/** What a poll asks for next, stored as the poll job's result and acted on when the job ends. */
export const pollResultSchema = z.discriminatedUnion("next", [
  /** Nothing to do yet: poll again after this pause. */
  z.object({ next: z.literal("poll"), delayMs: z.number().int().min(0) }),
  /** A cycle is queued or running: its end queues the next poll. */
  z.object({ next: z.literal("cycle") }),
  /** Provisioning is off, paused, or not continuous: no poll until that changes. */
  z.object({ next: z.literal("none") }),
]);
export type PollResult = z.infer<typeof pollResultSchema>;

/** A poll that failed outright (not throttled: that is a result) is tried again after this long. */
const FAILED_POLL_RETRY_MS = 60_000;

export const provisioningPollJob = defineJobKind(
  "provisioning-poll",
  z.object({ connectionId: z.string().uuid() }).strict(),
  {
    // The next poll is queued in the transaction that ends this one, so a worker that dies after the end
    // cannot leave the connection without a poll, and a poll retried after a crash is never doubled.
    onEnd: async (tx, end) => {
      if (end.status === "cancelled") return;
      const [job] = await tx.$queryRaw<{ connectionId: string; result: unknown }[]>`
        SELECT "connectionId", result FROM "Job" WHERE id = ${end.jobId}::uuid`;
      if (!job) return;
      const parsed = pollResultSchema.safeParse(job.result);
      const result: PollResult =
        end.status === "failed" || !parsed.success
          ? { next: "poll", delayMs: FAILED_POLL_RETRY_MS }
          : parsed.data;
      if (result.next === "none") return;
      await enqueuePoll(tx, job.connectionId, {
        runAt: new Date(Date.now() + (result.next === "poll" ? result.delayMs : 0)),
      });
    },
  },
);

export function pollJobKey(connectionId: string): string {
  return `provisioning-poll:${connectionId}`;
}

interface PollGate {
  scheduleMode: string;
  paused: boolean;
  provisioningEnabled: boolean;
  cycleLive: boolean;
}

async function pollGate(tx: Prisma.TransactionClient, connectionId: string): Promise<PollGate | null> {
  const [row] = await tx.$queryRaw<PollGate[]>`
    SELECT c."scheduleMode", c.paused, c."provisioningEnabled",
      EXISTS (SELECT 1 FROM "Job" j WHERE j."connectionId" = c.id AND j.kind = 'provisioning-cycle'
              AND j.status IN ('queued', 'running'))
      OR EXISTS (SELECT 1 FROM "Cycle" y WHERE y."connectionId" = c.id AND y.status = 'running'
              AND NOT y."dryRun") AS "cycleLive"
    FROM "Connection" c WHERE c.id = ${connectionId}::uuid`;
  return row ?? null;
}

export async function cycleIsLive(db: Prisma.TransactionClient, connectionId: string): Promise<boolean> {
  return (await pollGate(db, connectionId))?.cycleLive ?? false;
}

/**
 * Queues the connection's next poll, unless it is not continuous, is off or paused, or a cycle is queued
 * or running (whose end queues the poll). It takes no Connection lock: it runs inside the transaction
 * that ends a poll job, which already holds that job's row, and the Connection lock holders (cycle end,
 * Stop) insert poll rows; waiting for them here could deadlock. A poll that slips past a concurrent Stop
 * finds the connection paused when it runs and queues nothing.
 */
export async function enqueuePoll(
  tx: Prisma.TransactionClient,
  connectionId: string,
  options: { runAt?: Date } = {},
): Promise<JobRow | null> {
  const gate = await pollGate(tx, connectionId);
  if (!gate || gate.scheduleMode !== "continuous" || gate.paused || !gate.provisioningEnabled) return null;
  if (gate.cycleLive) return null;
  const runAt = options.runAt ?? new Date();
  const { job, created } = await enqueueJob(
    tx,
    provisioningPollJob,
    { connectionId },
    { connectionId, runAt, dedupeKey: pollJobKey(connectionId), maxAttempts: 3 },
  );
  // A poll queued for later (a quarantine's next attempt, an idle pause) comes sooner when asked:
  // after Allow deletes, or a Restart's cycle, the connection should not wait hours for its next look.
  if (!created && job.status === "queued" && job.runAt > runAt) {
    const [moved] = await tx.$queryRaw<JobRow[]>`
      UPDATE "Job" SET "runAt" = ${runAt}, "updatedAt" = now()
      WHERE id = ${job.id}::uuid AND status = 'queued' RETURNING *`;
    return moved ?? job;
  }
  return job;
}

export type BackstopReason = "escrow-due" | "interval";

/**
 * What makes a continuous connection run a cycle although its feeds show no change: failed objects
 * whose retry is due (escrows; their retry needs a cycle), and Entra's own rhythm as a backstop — an
 * incremental cycle at least every `scheduleIntervalMinutes` — which also retries a cycle that failed
 * and could not move its delta links.
 */
export async function backstopReason(
  db: Prisma.TransactionClient,
  connectionId: string,
): Promise<BackstopReason | null> {
  const [row] = await db.$queryRaw<{ escrowDue: boolean; intervalDue: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM "Escrow" e WHERE e."connectionId" = c.id AND e."nextRetryAt" <= now())
             AS "escrowDue",
      COALESCE((SELECT y."endedAt" FROM "Cycle" y WHERE y.id = c."lastCycleId"), '-infinity'::timestamptz)
        <= now() - make_interval(mins => c."scheduleIntervalMinutes") AS "intervalDue"
    FROM "Connection" c WHERE c.id = ${connectionId}::uuid`;
  if (row?.escrowDue) return "escrow-due";
  if (row?.intervalDue) return "interval";
  return null;
}

/** Stop and a switch to interval mode: the queued poll goes (a running one finds the change when it ends). */
export async function cancelQueuedPolls(tx: Prisma.TransactionClient, connectionId: string): Promise<number> {
  return tx.$executeRaw`
    UPDATE "Job" SET status = 'cancelled', "lastError" = 'cancelled: continuous polling stopped',
      "finishedAt" = now(), "updatedAt" = now()
    WHERE "connectionId" = ${connectionId}::uuid AND kind = 'provisioning-poll' AND status = 'queued'`;
}

export interface PollRecord {
  /** Feeds the poll keeps (its own); undefined leaves a link as it is. */
  membersDeltaLink?: string | null;
  assignmentsDeltaLink?: string | null;
  /** The poll read Graph (false: it was throttled or Graph was unavailable). */
  succeeded: boolean;
  /** Graph requests the poll sent (answered or not). */
  graphRequests: number;
  error?: string;
  /** A change was seen (when, as the cycle queued for it records it) and the digest of the cycle's feeds. */
  change?: { seenAt: Date; digest: string | null };
}

/** Writes what a poll found. Called inside the poll attempt's fenced transaction. */
export async function recordPoll(
  tx: Prisma.TransactionClient,
  connectionId: string,
  record: PollRecord,
): Promise<{ idleStreak: number }> {
  const [row] = await tx.$queryRaw<{ pollIdleStreak: number }[]>`
    UPDATE "Connection" SET "lastPollAt" = now(), "pollCount" = "pollCount" + 1,
      "pollGraphRequests" = "pollGraphRequests" + ${record.graphRequests},
      "lastPollError" = ${record.succeeded ? null : (record.error ?? "unknown error")},
      "pollIdleStreak" = CASE WHEN ${record.change !== undefined} THEN 0
                              WHEN ${record.succeeded} THEN "pollIdleStreak" + 1 ELSE "pollIdleStreak" END,
      "lastChangeSeenAt" = CASE WHEN ${record.change !== undefined} THEN ${record.change?.seenAt ?? null}::timestamptz
                                ELSE "lastChangeSeenAt" END,
      "pollChangeDigest" = CASE WHEN ${record.change !== undefined} THEN ${record.change?.digest ?? null}
                                ELSE "pollChangeDigest" END,
      "membersDeltaLink" = CASE WHEN ${record.membersDeltaLink !== undefined}
                                THEN ${record.membersDeltaLink ?? null} ELSE "membersDeltaLink" END,
      "assignmentsDeltaLink" = CASE WHEN ${record.assignmentsDeltaLink !== undefined}
                                THEN ${record.assignmentsDeltaLink ?? null} ELSE "assignmentsDeltaLink" END
    WHERE id = ${connectionId}::uuid
    RETURNING "pollIdleStreak"`;
  return { idleStreak: row?.pollIdleStreak ?? 0 };
}

/** Restart that forgets the delta links also forgets the poll's own feeds: the next poll starts them again. */
export async function forgetPollFeeds(tx: Prisma.TransactionClient, connectionId: string): Promise<void> {
  await tx.$executeRaw`
    UPDATE "Connection" SET "membersDeltaLink" = NULL, "assignmentsDeltaLink" = NULL, "pollChangeDigest" = NULL,
      "pollIdleStreak" = 0
    WHERE id = ${connectionId}::uuid`;
}

export interface ContinuousState {
  scheduleMode: ScheduleMode;
  lastPollAt: Date | null;
  lastPollError: string | null;
  nextPollAt: Date | null;
  /** The last change a poll saw, and when the cycle it queued wrote its last change to Dialpad. */
  lastChange: { seenAt: Date; cycleId: string | null; reachedDialpadAt: Date | null; writes: number } | null;
}

export async function getContinuousState(
  db: Prisma.TransactionClient,
  connectionId: string,
): Promise<ContinuousState | null> {
  const [row] = await db.$queryRaw<
    {
      scheduleMode: string;
      lastPollAt: Date | null;
      lastPollError: string | null;
      lastChangeSeenAt: Date | null;
      nextPollAt: Date | null;
      cycleId: string | null;
      reachedDialpadAt: Date | null;
      writes: bigint | null;
    }[]
  >`
    SELECT c."scheduleMode", c."lastPollAt", c."lastPollError", c."lastChangeSeenAt",
      (SELECT min(j."runAt") FROM "Job" j WHERE j."connectionId" = c.id AND j.kind = 'provisioning-poll'
         AND j.status IN ('queued', 'running')) AS "nextPollAt",
      y.id AS "cycleId", w."reachedDialpadAt", w.writes
    FROM "Connection" c
    LEFT JOIN LATERAL (SELECT id FROM "Cycle" WHERE "connectionId" = c.id
                         AND "changeSeenAt" = c."lastChangeSeenAt"
                       ORDER BY "startedAt" DESC LIMIT 1) y ON true
    LEFT JOIN LATERAL (SELECT max(l."activityDateTime") AS "reachedDialpadAt", count(*) AS writes
                       FROM "ProvisioningLog" l WHERE l."cycleId" = y.id
                         AND l.action IN ('Create', 'Update', 'Disable', 'Delete')
                         AND l.status IN ('Success', 'Warning')) w ON true
    WHERE c.id = ${connectionId}::uuid`;
  if (!row) return null;
  return {
    scheduleMode: row.scheduleMode === "continuous" ? "continuous" : "interval",
    lastPollAt: row.lastPollAt,
    lastPollError: row.lastPollError,
    nextPollAt: row.nextPollAt,
    lastChange: row.lastChangeSeenAt
      ? {
          seenAt: row.lastChangeSeenAt,
          cycleId: row.cycleId,
          reachedDialpadAt: row.reachedDialpadAt,
          writes: Number(row.writes ?? 0),
        }
      : null,
  };
}

/**
 * A cycle of a continuous connection starts the poll's own feeds before it reads the assignments, so
 * no change between the cycle's read and the first poll is missed. Links already there are kept.
 */
export async function keepStartedFeeds(
  tx: Prisma.TransactionClient,
  connectionId: string,
  feeds: { membersDeltaLink: string | null; assignmentsDeltaLink: string | null },
): Promise<void> {
  await tx.$executeRaw`
    UPDATE "Connection" SET "membersDeltaLink" = COALESCE("membersDeltaLink", ${feeds.membersDeltaLink}),
      "assignmentsDeltaLink" = COALESCE("assignmentsDeltaLink", ${feeds.assignmentsDeltaLink})
    WHERE id = ${connectionId}::uuid`;
}
