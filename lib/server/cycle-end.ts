import { Prisma, type Connection, type PrismaClient } from "../db/generated/client";
import { SecretBox } from "../crypto/secrets";
import type { JobLease } from "../jobs/lease";
import { finishCycle } from "../cycle/schedule";
import { enqueueWebhookEvent } from "../notify/webhook-events";
import type { Mailer } from "../notify/mailer";
import { mailerFromEnvironment, sendNotification } from "../notify/notifications";
import { QuarantineException } from "../sync/decide";
import { addCounts, executeGroupWork, type CycleCounts, type GroupWork } from "../sync/execute";
import { type EndedCycleStatus } from "../cycle/outcome";
import { endDryRun, readGroupWork, recordPlannerOutcome } from "../cycle/state";
import type { PlannedOperation } from "../sync/plan";
import { escrowQuarantineReason, ENTRA_ESCROW_THRESHOLDS, type QuarantineReason } from "../sync/quarantine";
import { getConnection } from "./connections";
import { queueReconcileAfterFullCycle } from "./reconcile";
import { prismaCycleStore, writerFor, type Writer } from "./cycle-store";
import { type RunCycleOptions, cycleScimClient } from "./cycle-peers";
import { recoverEarlierAttempt } from "./cycle-unit";
import { applyQuarantine } from "./quarantine-state";

/**
 * How a provisioning cycle ends, on either path (one job, or the finalizer after its units): the watermark,
 * escrow and deletion-threshold quarantine, the failure e-mail, and the end of the Cycle row through
 * lib/cycle `finishCycle`.
 */

/** What the planner of a fanned-out cycle hands to its finalizer. */
export interface FanOutState {
  cycleType: "initial" | "incremental";
  /** Counts of import and planning (the units and the references add theirs). */
  counts: CycleCounts;
  watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null } | null;
  /** `reason`: set when the source-shrink guard held them, whatever the threshold. */
  held: { count: number; sample: string[]; reason?: string | null };
  /** Units the planner queued, and slices of groups' work (CycleGroupWork rows) it recorded. */
  deferred: { units: number; groupWorkSlices: number };
}

export function heldInfo(
  held: readonly PlannedOperation[],
  shrinkReason: string | null,
): FanOutState["held"] {
  return {
    ...(shrinkReason ? { reason: shrinkReason } : {}),
    count: held.length,
    sample: held
      .slice(0, 10)
      .map((operation) => `${operation.action} ${operation.displayName ?? operation.sourceId}`),
  };
}

/**
 * What follows a cycle's changes, on either path (one job, or the finalizer of a fanned-out cycle): the
 * watermark, escrow and deletion-threshold quarantine, the failure e-mail, and the end of the cycle.
 */
export async function concludeCycle(
  db: PrismaClient,
  connection: Connection,
  cycleId: string,
  input: {
    counts: CycleCounts;
    watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null } | null;
    held: FanOutState["held"];
    failedSample: string[];
    finalizedByJob: boolean;
    mailer: Mailer | null;
    now: () => Date;
    options: RunCycleOptions;
    write: Writer;
  },
): Promise<{
  status: EndedCycleStatus;
  quarantine: { reason: string; nextAttempt: Date | null } | null;
}> {
  const { options, mailer, now } = input;
  const cycle = { id: cycleId };
  const watermark = input.watermark;
  if (watermark) {
    await input.write((tx) =>
      tx.connection.update({
        where: { id: connection.id },
        data: { usersDeltaLink: watermark.usersDeltaLink, groupsDeltaLink: watermark.groupsDeltaLink },
      }),
    );
  }

  const escrowCounts = await db.escrow.groupBy({
    by: ["kind"],
    where: { connectionId: connection.id },
    _count: true,
  });
  const objectFailures = escrowCounts.find((row) => row.kind === "object")?._count ?? 0;
  const referenceFailures = escrowCounts.find((row) => row.kind === "reference")?._count ?? 0;
  const counts = input.counts;
  const events = counts.countExported + counts.failed;
  const reason: QuarantineReason | null = input.held.count
    ? "TooManyDeletes"
    : escrowQuarantineReason(
        { objectFailures, referenceFailures, cycleEvents: events, cycleFailures: counts.failed },
        options.escrowThresholds ?? ENTRA_ESCROW_THRESHOLDS,
      );
  if (input.held.count) {
    await enqueueWebhookEvent(
      db,
      connection.id,
      "deletions.held",
      {
        cycleId,
        count: input.held.count,
        threshold: connection.deletionThreshold,
        sample: input.held.sample,
        // Held by the source-shrink guard, whatever the threshold: the sentence that says why.
        ...(input.held.reason ? { reason: input.held.reason } : {}),
      },
      { subjectKey: cycleId },
    );
  }
  const quarantine = await applyQuarantine(input.write, connection, reason, {
    now: now(),
    detail:
      reason === "TooManyDeletes"
        ? input.held.reason
          ? `${input.held.reason} All ${input.held.count} disable/delete operations of the cycle were held, whatever the accidental deletion threshold.`
          : `${input.held.count} disable/delete operations exceed the threshold of ${connection.deletionThreshold}.`
        : reason
          ? `${objectFailures} objects and ${referenceFailures} references are failing.`
          : undefined,
    held: input.held.count
      ? {
          count: input.held.count,
          threshold: connection.deletionThreshold,
          sample: input.held.sample,
          ...(input.held.reason ? { reason: input.held.reason } : {}),
        }
      : undefined,
    mailer,
    cycleId: cycle.id,
    log: options.log,
  });

  if (connection.notifyOnFailure && counts.failed > 0) {
    await sendNotification(
      mailer,
      connection.notificationEmail,
      "failure",
      {
        connectionName: connection.name,
        connectionId: connection.id,
        cycleId: cycle.id,
        failures: {
          count: counts.failed,
          sample: input.failedSample,
        },
      },
      options.log,
    );
  }

  const finished = await endCycle(db, cycle.id, {
    status: "succeeded",
    counts: { ...counts, escrowsOutstanding: objectFailures, referenceEscrowsOutstanding: referenceFailures },
    nextAttemptAt: quarantine?.nextAttempt ?? undefined,
    finalizedByJob: input.finalizedByJob,
    write: input.write,
    lease: options.lease,
  });
  return { status: finished, quarantine };
}

/**
 * Ends the Cycle row, or (inside a job) records its outcome for the cycle-finalize job. A real cycle ends
 * through lib/jobs `finishCycle`, which also queues the next one (no earlier than a quarantine's next
 * attempt); a dry run only ends its row, since it was asked for once.
 * A fanned-out cycle does not come here from its planner: its finalizer adds up the units' counts and
 * concludes it (finalizeFannedOutCycle).
 */
export async function endCycle(
  db: PrismaClient,
  cycleId: string,
  options: {
    status: "succeeded" | "failed";
    counts?: Prisma.InputJsonValue;
    error?: Prisma.InputJsonValue;
    nextAttemptAt?: Date;
    dryRun?: boolean;
    finalizedByJob: boolean;
    write: Writer;
    lease?: JobLease;
  },
): Promise<EndedCycleStatus> {
  if (options.finalizedByJob) {
    // Every unit of work is done: with completed = total the store queues the finalizer once the job ends.
    await options.write((tx) =>
      recordPlannerOutcome(tx, cycleId, {
        ...(options.counts !== undefined ? { counts: options.counts } : {}),
        ...(options.error !== undefined ? { error: options.error } : {}),
      }),
    );
    return options.status;
  }
  if (options.dryRun) return endDryRun(db, cycleId, options);
  const result = await finishCycle(db, cycleId, {
    status: options.status,
    afterEnd: queueReconcileAfterFullCycle,
    ...(options.counts !== undefined ? { counts: options.counts } : {}),
    ...(options.error !== undefined ? { error: options.error } : {}),
    ...(options.nextAttemptAt ? { nextAttemptAt: options.nextAttemptAt } : {}),
    ...(options.lease ? { lease: options.lease } : {}),
  });
  return result.finished ? result.status : options.status;
}

/**
 * The cycle-finalize job of a provisioning cycle: ends the cycle with the outcome its planner recorded
 * and queues the next cycle, no earlier than the quarantine's next attempt. A dry run queues nothing.
 */
export async function finalizeProvisioningCycle(
  db: PrismaClient,
  cycleId: string,
  fannedOut?: {
    box: SecretBox;
    options?: RunCycleOptions;
    /** An earlier attempt of this finalizer ran (and may have done part of the groups' work). */
    rerun?: boolean;
  },
) {
  const cycle = await db.cycle.findUnique({ where: { id: cycleId } });
  if (!cycle || cycle.status !== "running") return { finished: false as const };
  const state = cycle.handover as FanOutState | null;
  if (fannedOut && !cycle.dryRun && state)
    return finalizeFannedOutCycle(db, cycle, state, fannedOut.box, fannedOut.options ?? {}, fannedOut.rerun);
  const status = cycle.error === null ? "succeeded" : "failed";
  if (cycle.dryRun) return { finished: true as const, status: await endDryRun(db, cycleId, { status }) };
  const connection = await db.connection.findUnique({
    where: { id: cycle.connectionId },
    select: { quarantineReason: true, quarantineNextAttempt: true },
  });
  const nextAttemptAt = connection?.quarantineReason
    ? (connection.quarantineNextAttempt ?? undefined)
    : undefined;
  const lease = fannedOut?.options?.lease;
  return finishCycle(db, cycleId, {
    status,
    afterEnd: queueReconcileAfterFullCycle,
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    ...(lease ? { lease } : {}),
  });
}

/**
 * The finalizer of a fanned-out cycle, run once after its last unit: adds up the units' counts, runs the
 * groups and their members (the references need every user to exist), then concludes the cycle as the
 * single-job path does. A unit that hit a quarantine condition, or failed for good, fails the cycle and
 * keeps the watermark, so the next cycle sees the same changes again.
 */
async function finalizeFannedOutCycle(
  db: PrismaClient,
  cycle: { id: string; connectionId: string; stopRequested: boolean; error: unknown },
  state: FanOutState,
  box: SecretBox,
  options: RunCycleOptions,
  rerun = false,
) {
  const now = options.now ?? (() => new Date());
  const mailer = options.mailer === undefined ? mailerFromEnvironment() : options.mailer;
  const write = writerFor(db, options.lease);
  const fence = options.lease ? { lease: options.lease } : {};
  const connection = await getConnection(db, cycle.connectionId);
  const units = await db.job.findMany({
    where: { cycleId: cycle.id, kind: "cycle-unit" },
    select: { status: true, result: true },
  });
  let counts = state.counts;
  for (const unit of units) {
    const result = unit.result as { counts?: Partial<CycleCounts> } | null;
    if (unit.status === "succeeded" && result?.counts) counts = addCounts(counts, result.counts);
  }
  const unitError = cycle.error as {
    code?: string;
    message?: string;
    system?: string;
    quarantine?: boolean;
  } | null;
  if (unitError?.quarantine) {
    const quarantine = await applyQuarantine(write, connection, "EncounteredQuarantineException", {
      now: now(),
      detail: `${unitError.system}: ${unitError.message}`,
      mailer,
      cycleId: cycle.id,
      log: options.log,
    });
    return finishCycle(db, cycle.id, {
      status: "failed",
      counts: counts as unknown as Prisma.InputJsonValue,
      ...(quarantine?.nextAttempt ? { nextAttemptAt: quarantine.nextAttempt } : {}),
      ...fence,
    });
  }
  const failedUnits = units.filter((unit) => unit.status === "failed").length;
  if (failedUnits > 0 || cycle.error) {
    return finishCycle(db, cycle.id, {
      status: "failed",
      counts: counts as unknown as Prisma.InputJsonValue,
      ...(cycle.error
        ? {}
        : { error: { code: "CycleUnitsFailed", message: `${failedUnits} cycle unit(s) failed.` } }),
      ...fence,
    });
  }
  const stopped =
    cycle.stopRequested || units.some((unit) => (unit.result as { stopped?: boolean } | null)?.stopped);
  if (!stopped) {
    const store = prismaCycleStore(
      db,
      { connectionId: connection.id, cycleId: cycle.id, jobId: null },
      options.lease,
    );
    const scim = await cycleScimClient(db, connection, box, options);
    try {
      // A slice at a time: a worker holds one slice's member lists, never every group's.
      for (let slice = 0; slice < state.deferred.groupWorkSlices; slice += 1) {
        let work = (await readGroupWork(db, cycle.id, slice)) as GroupWork | null;
        if (!work) throw new Error(`Slice ${slice} of the groups' work of cycle ${cycle.id} is missing.`);
        if (rerun) {
          // What an earlier attempt did is counted, not done again (a group POSTed twice is a 409).
          const earlier = await recoverEarlierAttempt(
            db,
            store,
            scim,
            connection.id,
            cycle.id,
            work.operations,
          );
          work = { ...work, operations: earlier.remaining };
          counts = addCounts(counts, earlier.counts);
        }
        counts = addCounts(counts, (await executeGroupWork({ scim, store }, work)).counts);
      }
    } catch (error) {
      if (!(error instanceof QuarantineException)) throw error;
      const quarantine = await applyQuarantine(write, connection, "EncounteredQuarantineException", {
        now: now(),
        detail: `${error.system}: ${error.message}`,
        mailer,
        cycleId: cycle.id,
        log: options.log,
      });
      return finishCycle(db, cycle.id, {
        status: "failed",
        counts: counts as unknown as Prisma.InputJsonValue,
        error: { code: error.errorCode, message: error.message, system: error.system },
        ...(quarantine?.nextAttempt ? { nextAttemptAt: quarantine.nextAttempt } : {}),
        ...fence,
      });
    }
  }
  const failed = counts.failed
    ? await db.provisioningLog.findMany({
        where: { cycleId: cycle.id, status: "Failure" },
        select: { sourceDisplayName: true, sourceId: true },
        take: 10,
      })
    : [];
  const concluded = await concludeCycle(db, connection, cycle.id, {
    counts,
    watermark: stopped ? null : state.watermark,
    held: state.held,
    failedSample: failed.map((row) => row.sourceDisplayName ?? row.sourceId ?? ""),
    finalizedByJob: false,
    mailer,
    now,
    options,
    write,
  });
  return { finished: true as const, status: concluded.status };
}
