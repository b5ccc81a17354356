import crypto from "node:crypto";
import { Prisma, type Connection, type PrismaClient } from "../db/generated/client";
import { env } from "../config/env";
import { SecretBox, loadSecretKey } from "../crypto/secrets";
import { beginCycle, CycleAlreadyRunningError, enqueueCycleUnits } from "../cycle/units";
import { asConfigurationError, checkMappingAttributes } from "../cycle/configuration-error";
import type { JobLease } from "../jobs/lease";
import { finishCycle } from "../cycle/schedule";
import { enqueueWebhookEvent } from "../notify/webhook-events";
import type { Mailer } from "../notify/mailer";
import { mailerFromEnvironment, sendNotification } from "../notify/notifications";
import { createAdaptiveLimiter, eq, type RequestLimiter, type ScimClient, type ScimExchange } from "../scim";
import type { CycleLogEntry } from "../sync/cycle-ports";
import { SharedRequestBudget } from "./request-budget";
import { recordScimExchange } from "../metrics/scim-exchanges";
import { runCycle, type CycleOutcome } from "../sync/cycle";
import { QuarantineException } from "../sync/decide";
import {
  addCounts,
  emptyCounts,
  executeDeferredReferences,
  executeHeldChanges,
  executeUnit,
  type CycleCounts,
  type DeferredReferences,
} from "../sync/execute";
import { mappingEngineFor, isReferenceMapping } from "../sync/mapping-adapter";
import { COMPLETED_CYCLE_STATUSES, concludedStatus, type EndedCycleStatus } from "../cycle/outcome";
import { listRefusedAttributes, loadRefusalRegistry, type RefusedAttributeView } from "./refused-attributes";
import type { PlannedMembership, PlannedOperation } from "../sync/plan";
import {
  escrowQuarantineReason,
  ENTRA_ESCROW_THRESHOLDS,
  nextQuarantineState,
  type EscrowThresholds,
  type QuarantineReason,
} from "../sync/quarantine";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { MEMBERSHIP_LINK_TYPE, prismaCycleStore, toHeldRecord, writerFor, type Writer } from "./cycle-store";
import { loadMappingConfig } from "./mappings";
import { graphClientFor, scimClientFor } from "./peers";
import { savePreviewPlan } from "./preview-store";
import { pruneTargetSnapshots, takeTargetSnapshot } from "./target-snapshot-store";

/**
 * The provisioning cycle as a service: a "provisioning-cycle" job imports and plans a cycle
 * (lib/sync/cycle.ts) and applies what Entra applies around it: the watermark, escrow and deletion
 * thresholds, quarantine and its e-mail, and the schedule of the next cycle. A small cycle runs whole in
 * that job; one with more than a page of user operations fans out into cycle-unit jobs (`runCycleUnit`,
 * any worker, the connection's shared request budget), and its cycle-finalize job runs the groups and
 * members and concludes it once, after the last unit.
 */

const SYSTEM = { objectId: "00000000-0000-0000-0000-000000000000", upn: "System" };
const PLAN_RESULT_LIMIT = 1_000;

export interface RunCycleInput {
  connectionId: string;
  /** The provisioning-cycle job; it plans the cycle and owns its Cycle row. */
  jobId: string | null;
  trigger: string;
  dryRun: boolean;
  /** "Preview next cycle": the dry run's whole plan is stored in this PlanPreview. */
  previewId?: string;
  /** Applying a reviewed preview: only these fingerprints are sent, and the watermark stays. */
  approved?: { operations: ReadonlySet<string>; memberships: ReadonlySet<string> };
}

export interface RunCycleOptions {
  /** null: no e-mail. Default: from SMTP_* settings. */
  mailer?: Mailer | null;
  /** Dialpad requests per second for this cycle (Dialpad publishes 20 per company). */
  requestsPerSecond?: number;
  escrowThresholds?: EscrowThresholds;
  /**
   * User operations per cycle unit. Inside a provisioning-cycle job, a cycle with more than one page of
   * user operations fans out into cycle-unit jobs that any worker runs; default 100.
   */
  unitPageSize?: number;
  now?: () => Date;
  log?: {
    info(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
  };
  /** The job attempt's lease: every write of the attempt is fenced by it. */
  lease?: JobLease;
  /** Aborted when the worker drains or lost the lease: a unit stops before its next object. */
  signal?: AbortSignal;
}

export interface CycleSummary {
  cycleId: string | null;
  status: EndedCycleStatus | "skipped";
  /** Why no cycle ran (paused, provisioning off). */
  skippedBecause?: string;
  type?: "initial" | "incremental";
  dryRun: boolean;
  counts?: CycleCounts;
  quarantine: { reason: string; nextAttempt: Date | null } | null;
  error?: { code: string; message: string };
  /** Dry run only: the plan (first PLAN_RESULT_LIMIT operations) and the member changes. */
  plan?: { operations: PlanItem[]; memberships: PlannedMembership[]; truncated: boolean };
  /** The cycle fanned out into cycle units: it is still running; its finalizer ends it. */
  fannedOut?: { units: number };
}

/** What the planner of a fanned-out cycle hands to its finalizer. */
export interface FanOutState {
  cycleType: "initial" | "incremental";
  /** Counts of import and planning (the units and the references add theirs). */
  counts: CycleCounts;
  watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null } | null;
  /** `reason`: set when the source-shrink guard held them, whatever the threshold. */
  held: { count: number; sample: string[]; reason?: string | null };
  deferred: DeferredReferences;
}

const DEFAULT_UNIT_PAGE_SIZE = 100;
const UNITS_PER_ENQUEUE = 20;

type PlanItem = Pick<
  PlannedOperation,
  | "kind"
  | "action"
  | "objectType"
  | "sourceId"
  | "displayName"
  | "targetId"
  | "reason"
  | "operations"
  | "modifiedProperties"
>;

/**
 * The limiter of a Dialpad client. By default the connection's request budget is shared through
 * PostgreSQL by every worker on every host (Dialpad's 20 requests/second are per company); a test may
 * ask for an in-process limiter at its own rate.
 */
function limiterFor(
  db: PrismaClient,
  connectionId: string,
  options: { requestsPerSecond?: number },
): RequestLimiter {
  if (options.requestsPerSecond !== undefined)
    return createAdaptiveLimiter({ ratePerSecond: options.requestsPerSecond });
  return new SharedRequestBudget({ db, connectionId });
}

/** Every SCIM exchange counts towards the per-status request metrics. */
function metricsFor(connectionId: string) {
  return (exchange: ScimExchange) => recordScimExchange(connectionId, exchange);
}

/**
 * The Dialpad client of a cycle's job attempt: the connection's shared request budget, the request
 * metrics, and no write once the attempt may have lost its lease.
 */
function cycleScimClient(db: PrismaClient, connection: Connection, box: SecretBox, options: RunCycleOptions) {
  const { lease } = options;
  return scimClientFor(connection, box, {
    limiter: limiterFor(db, connection.id, options),
    onExchange: metricsFor(connection.id),
    ...(lease ? { beforeWrite: () => lease.assertHeld() } : {}),
  });
}

export async function runProvisioningCycle(
  db: PrismaClient,
  box: SecretBox,
  input: RunCycleInput,
  options: RunCycleOptions = {},
): Promise<CycleSummary> {
  const now = options.now ?? (() => new Date());
  const connection = await getConnection(db, input.connectionId);
  // A preview and its apply read and verify everything, as a full cycle does: an admin reviewing a plan
  // must see what Dialpad really holds (deleted or changed there), not what the links remember.
  const full = input.previewId !== undefined || input.approved !== undefined;
  const type = !full && (connection.usersDeltaLink || connection.groupsDeltaLink) ? "incremental" : "initial";
  const begun = await beginCycle(db, {
    connectionId: connection.id,
    // A cycle started outside a job (tests, scripts) still needs an owner id for the Cycle row.
    jobId: input.jobId ?? crypto.randomUUID(),
    type,
    trigger: input.trigger,
    dryRun: input.dryRun,
    // An admin's explicit preview or apply runs even while scheduled provisioning is off or paused.
    ignoreSchedule: input.previewId !== undefined || input.approved !== undefined,
  });
  if (!begun.started) {
    if (begun.reason === "already-running") throw new CycleAlreadyRunningError(connection.id);
    return {
      cycleId: null,
      status: "skipped",
      skippedBecause: begun.reason,
      dryRun: input.dryRun,
      quarantine: null,
    };
  }
  const cycle = begun.cycle;
  // Inside a provisioning-cycle job the cycle-finalize job ends the cycle (the planner's job still holds
  // the connection's one live cycle-job slot, so only the finalizer can queue the next cycle).
  const finalizedByJob = input.jobId !== null;
  if (begun.resumed) await resumePlanning(db, cycle.id, options);
  const config = loadMappingConfig(connection.mappings);
  const mailer = options.mailer === undefined ? mailerFromEnvironment() : options.mailer;
  const store = prismaCycleStore(
    db,
    { connectionId: connection.id, cycleId: cycle.id, jobId: input.jobId },
    options.lease,
  );
  const write = writerFor(db, options.lease);
  const refusals = await loadRefusalRegistry(db, connection.id, config, { write });

  let outcome: CycleOutcome;
  try {
    const misconfigured = checkMappingAttributes(config);
    if (misconfigured) throw misconfigured;
    const previousUsers = input.approved ? null : await acceptedSourceUsers(db, connection.id);
    const scim = await cycleScimClient(db, connection, box, options);
    outcome = await runCycle({
      graph: graphClientFor(connection, box),
      scim,
      store,
      refusals,
      listTarget: (objectType) =>
        listTargetForMatching(db, scim, connection.id, cycle.id, objectType, options),
      users: {
        enabled: config.users.enabled,
        engine: mappingEngineFor(config, "User", { refusals }),
        actions: config.actions.User,
      },
      groups: {
        enabled: config.groups.enabled,
        engine: mappingEngineFor(config, "Group", { withoutReferences: true, refusals }),
        actions: config.actions.Group,
        provisionMembers: config.groups.attributeMappings.some((mapping) =>
          isReferenceMapping(mapping.target),
        ),
      },
      scope: connection.scope === "All" ? "All" : "AssignedOnly",
      servicePrincipalId: connection.graphServicePrincipalId,
      cycleType: type,
      dryRun: input.dryRun,
      watermark: { usersDeltaLink: connection.usersDeltaLink, groupsDeltaLink: connection.groupsDeltaLink },
      deletion: deletionSettings(connection, input),
      skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
      // Applying a reviewed preview sends what the admin approved, disables included: no guard.
      ...(input.approved
        ? { approved: input.approved }
        : { sourceShrink: { previousUsers, maxShrinkPercent: connection.sourceShrinkPercent } }),
      ...(finalizedByJob && !input.dryRun
        ? {
            fanOut: {
              pageSize: options.unitPageSize ?? DEFAULT_UNIT_PAGE_SIZE,
              enqueue: async (pages) => {
                // Progress is in units from here on: the planner's own progress (pages) does not count.
                await write((tx) => countUnitsFromRows(tx, cycle.id));
                // In batches, each its own transaction: 100,000 users are a thousand units and hundreds
                // of megabytes of payload, more than one transaction should hold (it overran even an
                // 80-second timeout). Units already queued may start meanwhile; the cycle is not sealed
                // until this job ends, so its finalizer cannot run early.
                for (let offset = 0; offset < pages.length; offset += UNITS_PER_ENQUEUE) {
                  const result = await enqueueCycleUnits(
                    db,
                    cycle.id,
                    pages
                      .slice(offset, offset + UNITS_PER_ENQUEUE)
                      .map((operations) => ({ phase: "users", input: { operations } })),
                    options.lease ? { lease: options.lease } : {},
                  );
                  if (!result.accepted) return false;
                }
                return true;
              },
              settle: () => waitForUnits(db, cycle.id, ["queued", "running"], options),
            },
          }
        : {}),
      now,
      log: options.log,
    });
  } catch (error) {
    const configuration = asConfigurationError(error);
    if (configuration) {
      // No retry can fix it: fail now (the job store does not retry a permanent error) and say what to fix.
      const errorJson = configuration.toJSON();
      await endCycle(db, cycle.id, {
        status: "failed",
        error: errorJson as unknown as Prisma.InputJsonValue,
        dryRun: input.dryRun,
        finalizedByJob,
        write,
        lease: options.lease,
      });
      if (!input.dryRun && connection.notifyOnFailure) {
        await sendNotification(
          mailer,
          connection.notificationEmail,
          "configuration-failure",
          {
            connectionName: connection.name,
            connectionId: connection.id,
            cycleId: cycle.id,
            configuration: errorJson,
          },
          options.log,
        );
      }
      throw configuration;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof QuarantineException && !input.dryRun) {
      const quarantine = await applyQuarantine(write, connection, "EncounteredQuarantineException", {
        now: now(),
        detail: `${error.system}: ${message}`,
        mailer,
        cycleId: cycle.id,
        log: options.log,
      });
      const errorJson = { code: error.errorCode, message, system: error.system };
      await endCycle(db, cycle.id, {
        status: "failed",
        error: errorJson,
        nextAttemptAt: quarantine?.nextAttempt ?? undefined,
        finalizedByJob,
        write,
        lease: options.lease,
      });
      return {
        cycleId: cycle.id,
        status: "failed",
        type,
        dryRun: false,
        quarantine,
        error: { code: error.errorCode, message },
      };
    }
    await endCycle(db, cycle.id, {
      status: "failed",
      error: { code: error instanceof QuarantineException ? error.errorCode : "CycleFailed", message },
      dryRun: input.dryRun,
      finalizedByJob,
      write,
      lease: options.lease,
    });
    throw error;
  } finally {
    // The listing served this planning only; what the units execute was decided from it already.
    await pruneTargetSnapshots(db, connection.id).catch((error: unknown) =>
      options.log?.warn({ err: String(error) }, "removing the cycle's Dialpad listing failed"),
    );
  }

  await recordSourceUsers(write, cycle.id, outcome.source);

  if (input.dryRun && input.previewId) {
    await savePreviewPlan(db, box, connection, {
      previewId: input.previewId,
      cycleId: cycle.id,
      outcome,
      now: now(),
    });
  }
  if (input.dryRun) {
    // A dry run changes nothing but its own Cycle row: no links, escrows, logs, watermark or quarantine.
    // The plan goes to the job result (the API shows it); the provisioning log only records real changes.
    await endCycle(db, cycle.id, {
      status: "succeeded",
      counts: {
        ...outcome.counts,
        dryRun: true,
        planned: { ...outcome.planned },
        plannedMembershipChanges: outcome.memberships.length,
      },
      dryRun: true,
      finalizedByJob,
      write,
      lease: options.lease,
    });
    const operations = outcome.plan
      .filter((operation) => operation.kind !== "skip" || operation.log)
      .map((operation): PlanItem => ({
        kind: operation.kind,
        action: operation.action,
        objectType: operation.objectType,
        sourceId: operation.sourceId,
        displayName: operation.displayName,
        targetId: operation.targetId,
        reason: operation.reason,
        operations: operation.operations,
        modifiedProperties: operation.modifiedProperties,
      }));
    return {
      cycleId: cycle.id,
      status: "succeeded",
      type: outcome.cycleType,
      dryRun: true,
      counts: outcome.counts,
      quarantine: connection.quarantineReason
        ? { reason: connection.quarantineReason, nextAttempt: connection.quarantineNextAttempt }
        : null,
      plan: {
        operations: operations.slice(0, PLAN_RESULT_LIMIT),
        memberships: outcome.memberships.slice(0, PLAN_RESULT_LIMIT),
        truncated: operations.length > PLAN_RESULT_LIMIT || outcome.memberships.length > PLAN_RESULT_LIMIT,
      },
    };
  }

  if (outcome.deferred) {
    const handover: FanOutState = {
      cycleType: outcome.cycleType,
      counts: outcome.counts,
      watermark: outcome.watermark,
      held: heldInfo(outcome.held, outcome.source.shrink.reason),
      deferred: outcome.deferred,
    };
    // The finalizer reads this from the Cycle row; written under the planner's lease, so a planner that
    // lost its lease cannot hand over a plan the cycle does not run.
    await write(
      (tx) => tx.$executeRaw`
        UPDATE "Cycle" SET handover = ${JSON.stringify(handover)}::jsonb
        WHERE id = ${cycle.id}::uuid AND status = 'running'`,
      { timeoutMs: 60_000 },
    );
    return {
      cycleId: cycle.id,
      status: "succeeded",
      type: outcome.cycleType,
      dryRun: false,
      counts: outcome.counts,
      quarantine: null,
      fannedOut: { units: handover.deferred.units },
    };
  }

  const failedSample = outcome.failedSample;
  const concluded = await concludeCycle(db, connection, cycle.id, {
    counts: outcome.counts,
    // Applying a preview sends only what was approved: the changes it left out must come again.
    watermark: input.approved ? null : outcome.watermark,
    held: heldInfo(outcome.held, outcome.source.shrink.reason),
    failedSample,
    finalizedByJob,
    mailer,
    now,
    options,
    write,
  });
  return {
    cycleId: cycle.id,
    status: concluded.status,
    type: outcome.cycleType,
    dryRun: false,
    counts: outcome.counts,
    quarantine: concluded.quarantine,
  };
}

/**
 * An initial cycle's listing of Dialpad (lib/server/target-snapshot-store.ts), with the linked objects
 * whose Dialpad resource is gone: matched against in one query per page of objects instead of a
 * request each. Null when the listing is not trustworthy; the cycle then matches with queries.
 */
async function listTargetForMatching(
  db: PrismaClient,
  scim: ScimClient,
  connectionId: string,
  cycleId: string,
  objectType: "User" | "Group",
  options: RunCycleOptions,
) {
  const taken = await takeTargetSnapshot(db, scim, {
    connectionId,
    cycleId,
    resourceType: objectType,
    // A listing of 100,000 users is 1,000 requests: stop it when the attempt may have lost its lease.
    onProgress: async () => options.lease?.assertHeld(),
  });
  if (!taken.index) {
    options.log?.info(
      { objectType, verdict: taken.verdict },
      "Dialpad's listing is not trustworthy; matching with one query per object",
    );
    return null;
  }
  const linked = await db.objectLink.findMany({
    where: { connectionId, objectType },
    select: { targetId: true },
  });
  const missing = await taken.index.targetIdsMissing(linked.map((link) => link.targetId));
  return { index: taken.index, missingTargetIds: new Set(missing) };
}

/**
 * A planner re-run after its attempt lost the lease (its worker died, froze, or was paused past the
 * lease) may find units that attempt queued before it lost the lease. Units that ran keep their work
 * (their links make those objects "no change" when planned again); units not started yet are withdrawn;
 * units still running are waited for, so planning again cannot hand the same object to two units.
 */
async function resumePlanning(db: PrismaClient, cycleId: string, options: RunCycleOptions) {
  const write = writerFor(db, options.lease);
  await write(async (tx) => {
    const withdrawn = await tx.$queryRaw<{ id: string }[]>`
      DELETE FROM "Job" WHERE "cycleId" = ${cycleId}::uuid AND kind = 'cycle-unit' AND status = 'queued'
      RETURNING id`;
    if (withdrawn.length)
      await tx.$executeRaw`DELETE FROM "CycleUnit" WHERE "jobId" = ANY(${withdrawn.map((row) => row.id)}::uuid[])`;
    await tx.$executeRaw`UPDATE "Cycle" SET error = NULL, handover = NULL WHERE id = ${cycleId}::uuid`;
    await countUnitsFromRows(tx, cycleId);
  });
  await waitForUnits(db, cycleId, ["running"], options);
}

/** Waits until none of the cycle's units is in one of these states (the planner's lease permitting). */
async function waitForUnits(
  db: PrismaClient,
  cycleId: string,
  statuses: ("queued" | "running")[],
  options: RunCycleOptions,
) {
  for (;;) {
    options.lease?.assertHeld();
    const [row] = await db.$queryRaw<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM "Job"
      WHERE "cycleId" = ${cycleId}::uuid AND kind = 'cycle-unit' AND status = ANY(${statuses}::text[])`;
    if (!row?.waiting) return;
    options.log?.info({ waiting: row.waiting, statuses }, "planner waiting for units");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The Cycle's unit counters recomputed from its CycleUnit rows (the rows are the truth). */
async function countUnitsFromRows(tx: Prisma.TransactionClient, cycleId: string) {
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
 * Accidental-deletions prevention as the connection asks for it. "Require approval" holds every disable
 * and delete (a threshold of 0); applying a reviewed preview holds none, since the admin approved exactly
 * those operations.
 */
function deletionSettings(
  connection: Connection,
  input: RunCycleInput,
): { preventAccidentalDeletes: boolean; deletionThreshold: number } {
  if (input.approved)
    return { preventAccidentalDeletes: false, deletionThreshold: connection.deletionThreshold };
  if (connection.requireApprovalForDeletions) return { preventAccidentalDeletes: true, deletionThreshold: 0 };
  return {
    preventAccidentalDeletes: connection.preventAccidentalDeletes,
    deletionThreshold: connection.deletionThreshold,
  };
}

/**
 * The assigned users of the last cycle the source-shrink guard let through, which the next one is
 * compared with: a held cycle's shrunken read never counts (else the cycle after it would disable
 * everyone), nor does a dry run or a cycle that did not measure (scope All, incremental).
 */
async function acceptedSourceUsers(db: PrismaClient, connectionId: string): Promise<number | null> {
  const last = await db.cycle.findFirst({
    where: { connectionId, dryRun: false, sourceShrinkHeld: false, sourceUsersRead: { not: null } },
    orderBy: { startedAt: "desc" },
    select: { sourceUsersRead: true },
  });
  return last?.sourceUsersRead ?? null;
}

/** How many users this cycle read against the count it was compared with, for the overview. */
async function recordSourceUsers(write: Writer, cycleId: string, source: CycleOutcome["source"]) {
  await write((tx) =>
    tx.cycle.update({
      where: { id: cycleId },
      data: {
        sourceUsersRead: source.usersRead,
        sourceUsersBefore: source.usersBefore,
        sourceShrinkHeld: source.shrink.hold,
      },
    }),
  );
}

function heldInfo(held: readonly PlannedOperation[], shrinkReason: string | null): FanOutState["held"] {
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
async function concludeCycle(
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
async function endCycle(
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
    await options.write(
      (tx) => tx.$executeRaw`
      UPDATE "Cycle" SET "completedUnits" = GREATEST("completedUnits", "totalUnits"),
        "totalUnits" = GREATEST("completedUnits", "totalUnits"),
        counts = COALESCE(${options.counts === undefined ? null : JSON.stringify(options.counts)}::jsonb, counts),
        error = COALESCE(${options.error === undefined ? null : JSON.stringify(options.error)}::jsonb, error)
      WHERE id = ${cycleId}::uuid AND status = 'running'`,
    );
    return options.status;
  }
  if (options.dryRun) return endDryRun(db, cycleId, options);
  const result = await finishCycle(db, cycleId, {
    status: options.status,
    ...(options.counts !== undefined ? { counts: options.counts } : {}),
    ...(options.error !== undefined ? { error: options.error } : {}),
    ...(options.nextAttemptAt ? { nextAttemptAt: options.nextAttemptAt } : {}),
    ...(options.lease ? { lease: options.lease } : {}),
  });
  return result.finished ? result.status : options.status;
}

async function endDryRun(
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

/**
 * The cycle-finalize job of a provisioning cycle: ends the cycle with the outcome its planner recorded
 * and queues the next cycle, no earlier than the quarantine's next attempt. A dry run queues nothing.
 */
export async function finalizeProvisioningCycle(
  db: PrismaClient,
  cycleId: string,
  fannedOut?: { box: SecretBox; options?: RunCycleOptions },
) {
  const cycle = await db.cycle.findUnique({ where: { id: cycleId } });
  if (!cycle || cycle.status !== "running") return { finished: false as const };
  const state = cycle.handover as FanOutState | null;
  if (fannedOut && !cycle.dryRun && state)
    return finalizeFannedOutCycle(db, cycle, state, fannedOut.box, fannedOut.options ?? {});
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
      const references = await executeDeferredReferences({ scim, store }, state.deferred);
      counts = addCounts(counts, references.counts);
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

/**
 * A unit run again after an earlier attempt stopped (its worker died, drained, froze past its lease)
 * must neither redo nor lose what that attempt did. Objects the earlier attempt logged are not run again,
 * and count as the log says. A create it did not log may still have reached Dialpad (the POST succeeded
 * but its answer, link or log was lost): such a user is found (linked since the cycle began, or by its
 * userName) and adopted with the Create entry the earlier attempt could not write, instead of being
 * POSTed again into a 409.
 */
async function recoverEarlierAttempt(
  db: PrismaClient,
  store: ReturnType<typeof prismaCycleStore>,
  scim: ScimClient,
  connectionId: string,
  cycleId: string,
  operations: PlannedOperation[],
): Promise<{ remaining: PlannedOperation[]; counts: CycleCounts }> {
  const counts = emptyCounts();
  const cycle = await db.cycle.findUniqueOrThrow({ where: { id: cycleId }, select: { startedAt: true } });
  const key = (objectType: string, sourceId: string | null) => `${objectType}:${sourceId}`;
  const logged = await db.provisioningLog.findMany({
    where: { cycleId, sourceId: { in: operations.map((op) => op.sourceId) } },
    select: { objectType: true, sourceId: true, action: true, status: true },
  });
  const loggedKeys = new Set<string>();
  for (const entry of logged) {
    if (loggedKeys.has(key(entry.objectType, entry.sourceId))) continue;
    loggedKeys.add(key(entry.objectType, entry.sourceId));
    countLogged(counts, entry);
  }
  const notLogged = operations.filter((op) => !loggedKeys.has(key(op.objectType, op.sourceId)));
  const creates = notLogged.filter((op) => op.kind === "create" && op.objectType === "User");
  const linked = creates.length
    ? await db.objectLink.findMany({
        where: {
          connectionId,
          objectType: "User",
          sourceId: { in: creates.map((op) => op.sourceId) },
          lastExportedAt: { gte: cycle.startedAt },
        },
        select: { sourceId: true, targetId: true },
      })
    : [];
  const linkedTarget = new Map(linked.map((row) => [row.sourceId, row.targetId]));
  const adopted = new Set<string>();
  const entries: CycleLogEntry[] = [];
  for (const op of creates) {
    let targetId = linkedTarget.get(op.sourceId) ?? null;
    if (!targetId) {
      // Not linked: the POST may still have reached Dialpad. Look before creating again.
      const userName = typeof op.resource?.userName === "string" ? op.resource.userName : null;
      const found = userName ? await scim.findUsers(eq("userName", userName)) : [];
      if (found.length !== 1) continue;
      targetId = found[0]!.id;
      await store.saveLink({
        objectType: "User",
        sourceId: op.sourceId,
        targetId,
        displayName: op.displayName,
        exportedHash: op.link?.exportedHash ?? null,
        active: true,
      });
    }
    adopted.add(op.sourceId);
    counts.created += 1;
    counts.countExported += 1;
    entries.push({
      changeId: crypto.randomUUID(),
      action: "Create",
      status: "Success",
      objectType: "User",
      sourceId: op.sourceId,
      sourceDisplayName: op.displayName,
      targetId,
      targetDisplayName: op.displayName,
      modifiedProperties: op.modifiedProperties,
      steps: [
        ...op.steps,
        {
          name: "EntryExportAdd",
          type: "Export",
          status: "success",
          description: `Created in Dialpad (id ${targetId}) by an earlier attempt whose worker stopped before recording it`,
          timestamp: new Date().toISOString(),
          details: {},
        },
      ],
      durationMs: 0,
    });
  }
  if (entries.length) await store.writeLogs(entries);
  return {
    remaining: notLogged.filter((op) => !(op.kind === "create" && adopted.has(op.sourceId))),
    counts,
  };
}

/** What an earlier attempt's log entry counts for, as executeUnit would have counted it. */
function countLogged(counts: CycleCounts, entry: { action: string; status: string }) {
  if (entry.status === "Failure") {
    counts.failed += 1;
    counts.countEscrowed += 1;
    return;
  }
  if (entry.status === "Skipped" || entry.action === "Other" || entry.action === "StagedDelete") {
    counts.skipped += 1;
    return;
  }
  const column = ({ Create: "created", Update: "updated", Disable: "disabled", Delete: "deleted" } as const)[
    entry.action as "Create" | "Update" | "Disable" | "Delete"
  ];
  if (column) counts[column] += 1;
  counts.countExported += 1;
}

/**
 * One cycle unit: a page of the planned user operations, on whichever worker claimed it, through the
 * connection's shared request budget. Stops before the next object once Stop was requested or another
 * unit hit a quarantine condition (that condition is recorded on the Cycle for the finalizer), or when
 * this attempt is asked to stop (drain) or may have lost its lease: then what it did is recorded and it
 * ends without completing, so the unit runs again and picks up where it stopped.
 */
export async function runCycleUnit(
  db: PrismaClient,
  box: SecretBox,
  input: {
    connectionId: string;
    cycleId: string;
    jobId: string;
    /** An earlier attempt of this unit ran (and may have done part of it). */
    rerun: boolean;
    workerId: string;
    operations: PlannedOperation[];
  },
  options: RunCycleOptions = {},
): Promise<{ counts: CycleCounts; executed: number; stopped: boolean; workerId: string }> {
  const connection = await getConnection(db, input.connectionId);
  const { lease, signal } = options;
  let operations = input.operations;
  const base = prismaCycleStore(
    db,
    { connectionId: connection.id, cycleId: input.cycleId, jobId: input.jobId },
    lease,
  );
  const scim = await cycleScimClient(db, connection, box, options);
  let recovered = emptyCounts();
  if (input.rerun) {
    const earlier = await recoverEarlierAttempt(db, base, scim, connection.id, input.cycleId, operations);
    operations = earlier.remaining;
    recovered = earlier.counts;
  }

  const interrupted = () => signal?.aborted === true || (lease !== undefined && !lease.held);
  const store = {
    ...base,
    async stopRequested() {
      if (interrupted()) return true;
      const [row] = await db.$queryRaw<{ stop: boolean }[]>`
        SELECT ("stopRequested" OR status <> 'running' OR error IS NOT NULL) AS stop
        FROM "Cycle" WHERE id = ${input.cycleId}::uuid`;
      return row?.stop ?? true;
    },
  };
  try {
    const refusals = await loadRefusalRegistry(db, connection.id, loadMappingConfig(connection.mappings), {
      write: writerFor(db, lease),
    });
    const result = await executeUnit({ scim, store, refusals, mayWrite: () => !interrupted() }, operations);
    // Interrupted: not done. The job is handed back (drain) or taken over (lease), and runs again.
    lease?.assertHeld();
    if (signal?.aborted) throw signal.reason ?? new Error("unit interrupted");
    return { ...result, counts: addCounts(result.counts, recovered), workerId: input.workerId };
  } catch (error) {
    if (!(error instanceof QuarantineException)) throw error;
    const errorJson = {
      code: error.errorCode,
      message: error.message,
      system: error.system,
      quarantine: true,
    };
    await writerFor(
      db,
      lease,
    )(
      (tx) => tx.$executeRaw`
        UPDATE "Cycle" SET error = COALESCE(error, ${JSON.stringify(errorJson)}::jsonb)
        WHERE id = ${input.cycleId}::uuid AND status = 'running'`,
    );
    return { counts: emptyCounts(), executed: 0, stopped: true, workerId: input.workerId };
  }
}

/**
 * Moves the connection's quarantine to what this cycle implies (reason null ends it), sends the one
 * e-mail per quarantine and per change of reason, and turns provisioning off after four weeks.
 */
async function applyQuarantine(
  write: Writer,
  connection: Connection,
  reason: QuarantineReason | null,
  context: {
    now: Date;
    detail?: string;
    held?: { count: number; threshold: number; sample: string[]; reason?: string };
    mailer: Mailer | null;
    cycleId: string;
    log?: RunCycleOptions["log"];
  },
): Promise<{ reason: string; nextAttempt: Date | null } | null> {
  if (reason === null && connection.quarantineReason === null) return null;
  const decision = nextQuarantineState(
    {
      reason: connection.quarantineReason,
      seriesBegan: connection.quarantineSeriesBegan,
      currentBegan: connection.quarantineCurrentBegan,
      nextAttempt: connection.quarantineNextAttempt,
      seriesCount: connection.quarantineSeriesCount,
      notifiedReason: connection.quarantineNotifiedReason,
    },
    reason,
    context.now,
  );
  let notifiedReason = decision.state.notifiedReason;
  if (decision.notify && reason) {
    const sent = await sendNotification(
      context.mailer,
      connection.notificationEmail,
      "quarantine",
      {
        connectionName: connection.name,
        connectionId: connection.id,
        cycleId: context.cycleId,
        reason,
        detail: context.detail,
        nextAttempt: decision.state.nextAttempt,
        held: context.held,
      },
      context.log,
    );
    if (sent) notifiedReason = reason;
  }
  await write(async (tx) => {
    await tx.connection.update({
      where: { id: connection.id },
      data: {
        quarantineReason: decision.state.reason,
        quarantineSeriesBegan: decision.state.seriesBegan,
        quarantineCurrentBegan: decision.state.currentBegan,
        quarantineNextAttempt: decision.state.nextAttempt,
        quarantineSeriesCount: decision.state.seriesCount,
        quarantineError: reason
          ? {
              reason,
              detail: context.detail ?? null,
              cycleId: context.cycleId,
              // Held by the source-shrink guard rather than the threshold: the console words it so.
              ...(context.held?.reason ? { sourceShrink: true } : {}),
            }
          : Prisma.DbNull,
        quarantineNotifiedReason: notifiedReason,
        ...(decision.disableProvisioning ? { provisioningEnabled: false } : {}),
      },
    });
    if (reason !== connection.quarantineReason) {
      await enqueueQuarantineWebhook(tx, connection, reason, {
        cycleId: context.cycleId,
        detail: context.detail ?? null,
        nextAttempt: decision.state.nextAttempt,
      });
      await recordAudit(tx, {
        connectionId: connection.id,
        activity: "Quarantine",
        principal: SYSTEM,
        result: reason ? "failure" : "success",
        changes: { quarantineReason: { before: connection.quarantineReason, after: reason } },
      });
    }
    if (decision.disableProvisioning) {
      await recordAudit(tx, {
        connectionId: connection.id,
        activity: "Disable/pause provisioning configuration",
        principal: SYSTEM,
        changes: {
          provisioningEnabled: { before: true, after: false },
          why: { before: null, after: "In quarantine for 28 days" },
        },
      });
    }
  });
  return reason ? { reason, nextAttempt: decision.state.nextAttempt } : null;
}

/** "quarantine.entered" for a new reason (also a change of reason), "quarantine.left" when it ends. */
async function enqueueQuarantineWebhook(
  tx: Prisma.TransactionClient,
  connection: Pick<Connection, "id" | "quarantineReason">,
  reason: string | null,
  context: { cycleId?: string; detail?: string | null; nextAttempt?: Date | null; why?: string },
) {
  if (reason) {
    await enqueueWebhookEvent(tx, connection.id, "quarantine.entered", {
      reason,
      previousReason: connection.quarantineReason,
      detail: context.detail ?? null,
      nextAttempt: context.nextAttempt ?? null,
      cycleId: context.cycleId ?? null,
    });
  } else if (connection.quarantineReason) {
    await enqueueWebhookEvent(tx, connection.id, "quarantine.left", {
      previousReason: connection.quarantineReason,
      why: context.why ?? "A cycle ran without the quarantine condition.",
      cycleId: context.cycleId ?? null,
    });
  }
}

function defaultBox(): SecretBox {
  const settings = env();
  return new SecretBox(loadSecretKey({ secretKey: settings.SECRET_KEY, dataDir: settings.DATA_DIR }));
}

/**
 * "Allow deletes": runs the disables and deletes held by accidental-deletions prevention, then leaves the
 * TooManyDeletes quarantine. Failures are escrowed and retried by the next cycle like any other.
 */
export async function allowDeletes(
  db: PrismaClient,
  connectionId: string,
  options: {
    box?: SecretBox;
    initiatedBy?: { objectId: string; upn: string };
    requestsPerSecond?: number;
  } = {},
): Promise<{ executed: number; failed: number }> {
  const connection = await getConnection(db, connectionId);
  const rows = await db.heldChange.findMany({ where: { connectionId }, orderBy: { createdAt: "asc" } });
  if (rows.length === 0) return { executed: 0, failed: 0 };
  const actor = options.initiatedBy ?? SYSTEM;
  const store = prismaCycleStore(db, {
    connectionId,
    cycleId: rows[0]!.cycleId,
    jobId: null,
    initiatedBy: actor.upn,
  });
  const scim = await scimClientFor(connection, options.box ?? defaultBox(), {
    limiter: limiterFor(db, connectionId, options),
    onExchange: metricsFor(connectionId),
  });
  const { counts, logs } = await executeHeldChanges({ scim, store }, rows.map(toHeldRecord));
  await store.writeLogs(logs);
  await db.$transaction(async (tx) => {
    await tx.heldChange.deleteMany({ where: { connectionId, id: { in: rows.map((row) => row.id) } } });
    if (connection.quarantineReason === "TooManyDeletes") {
      await tx.connection.update({ where: { id: connectionId }, data: clearedQuarantine() });
      await enqueueQuarantineWebhook(tx, connection, null, { why: `Allow deletes by ${actor.upn}.` });
    }
    await recordAudit(tx, {
      connectionId,
      activity: "Allow deletes",
      principal: actor,
      result: counts.failed ? "failure" : "success",
      changes: { held: { before: rows.length, after: 0 }, failed: { before: null, after: counts.failed } },
    });
  });
  return { executed: counts.disabled + counts.deleted, failed: counts.failed };
}

function clearedQuarantine() {
  return {
    quarantineReason: null,
    quarantineSeriesBegan: null,
    quarantineCurrentBegan: null,
    quarantineNextAttempt: null,
    quarantineSeriesCount: 0,
    quarantineError: Prisma.DbNull,
    quarantineNotifiedReason: null,
  };
}

export type RestartCriterion = "Watermark" | "Escrows" | "QuarantineState" | "Full" | "ForceDeletes";

/**
 * Entra's restart criteria (synchronizationJobRestartCriteria). Empty = the portal's Restart: clear the
 * watermark, escrows and quarantine, keep the links. Full also breaks the links (every object is matched
 * again). ForceDeletes runs the held deletions; any other restart discards them, so the next cycle
 * evaluates them afresh. Queuing the cycle itself is lib/jobs `restartProvisioning`'s job.
 */
export async function applyRestartCriteria(
  db: PrismaClient,
  connectionId: string,
  criteria: readonly RestartCriterion[],
  options: { box?: SecretBox; initiatedBy?: { objectId: string; upn: string } } = {},
): Promise<{
  applied: RestartCriterion[];
  deletesExecuted: number;
  heldDiscarded: number;
  linksRemoved: number;
}> {
  const before = await getConnection(db, connectionId);
  const wanted = new Set<RestartCriterion>(
    criteria.length ? criteria : ["Watermark", "Escrows", "QuarantineState"],
  );
  if (wanted.has("Full"))
    for (const implied of ["Watermark", "Escrows", "QuarantineState"] as const) wanted.add(implied);
  let deletesExecuted = 0;
  if (wanted.has("ForceDeletes")) deletesExecuted = (await allowDeletes(db, connectionId, options)).executed;
  return db.$transaction(async (tx) => {
    const discarded = await tx.heldChange.deleteMany({ where: { connectionId } });
    let linksRemoved = 0;
    if (wanted.has("Full"))
      linksRemoved = (await tx.objectLink.deleteMany({ where: { connectionId } })).count;
    if (wanted.has("Escrows")) await tx.escrow.deleteMany({ where: { connectionId } });
    await tx.connection.update({
      where: { id: connectionId },
      data: {
        ...(wanted.has("Watermark") ? { usersDeltaLink: null, groupsDeltaLink: null } : {}),
        ...(wanted.has("QuarantineState") ? clearedQuarantine() : {}),
      },
    });
    if (wanted.has("QuarantineState")) {
      await enqueueQuarantineWebhook(tx, before, null, {
        why: `Restart by ${options.initiatedBy?.upn ?? SYSTEM.upn}.`,
      });
    }
    await recordAudit(tx, {
      connectionId,
      activity: "Enable/restart provisioning configuration",
      principal: options.initiatedBy ?? SYSTEM,
      changes: { criteria: { before: null, after: [...wanted].join(",") } },
    });
    return { applied: [...wanted], deletesExecuted, heldDiscarded: discarded.count, linksRemoved };
  });
}

export interface ProvisioningStatus {
  /** Graph synchronizationStatus.code. */
  code: "NotConfigured" | "NotRun" | "Active" | "Paused" | "Quarantine";
  quarantine: {
    reason: string;
    currentBegan: Date | null;
    seriesBegan: Date | null;
    nextAttempt: Date | null;
    seriesCount: number;
    error: unknown;
  } | null;
  lastCycle: {
    id: string;
    type: string;
    status: string;
    dryRun: boolean;
    trigger: string;
    startedAt: Date;
    endedAt: Date | null;
    completedUnits: number;
    totalUnits: number;
    counts: unknown;
    error: unknown;
    /** Users Entra ID returned as assigned, against the last accepted cycle's (source-shrink guard). */
    sourceUsers: { read: number | null; before: number | null; held: boolean };
  } | null;
  lastSuccessfulCycle: { id: string; endedAt: Date | null; counts: unknown } | null;
  heldChanges: {
    count: number;
    sample: { objectType: string; sourceId: string; action: string; displayName: string | null }[];
  };
  escrows: { objects: number; references: number };
  /** Attributes Dialpad refuses, left out of every change (lib/server/refused-attributes.ts). */
  refusedAttributes: RefusedAttributeView[];
  /** Objects linked to Dialpad, by type (Entra's synchronizedEntryCountByType). */
  synchronizedEntryCountByType: { User: number; Group: number };
}

/** What the console shows for a connection's provisioning (Entra's "Current status"). */
export async function getProvisioningStatus(
  db: PrismaClient,
  connectionId: string,
): Promise<ProvisioningStatus> {
  const connection = await getConnection(db, connectionId);
  const [lastCycle, lastSuccessful, heldCount, heldSample, escrows, links, refusedAttributes] =
    await Promise.all([
      db.cycle.findFirst({ where: { connectionId, dryRun: false }, orderBy: { startedAt: "desc" } }),
      db.cycle.findFirst({
        where: { connectionId, dryRun: false, status: { in: [...COMPLETED_CYCLE_STATUSES] } },
        orderBy: { startedAt: "desc" },
      }),
      db.heldChange.count({ where: { connectionId } }),
      db.heldChange.findMany({ where: { connectionId }, take: 50, orderBy: { createdAt: "asc" } }),
      db.escrow.groupBy({ by: ["kind"], where: { connectionId }, _count: true }),
      db.objectLink.groupBy({
        by: ["objectType"],
        where: { connectionId, objectType: { not: MEMBERSHIP_LINK_TYPE } },
        _count: true,
      }),
      listRefusedAttributes(db, connectionId, loadMappingConfig(connection.mappings)),
    ]);
  const configured = Boolean(
    connection.tenantUrl && connection.secretTokenCipher && connection.graphClientId,
  );
  const code: ProvisioningStatus["code"] = !configured
    ? "NotConfigured"
    : connection.quarantineReason
      ? "Quarantine"
      : connection.paused || !connection.provisioningEnabled
        ? "Paused"
        : lastCycle
          ? "Active"
          : "NotRun";
  return {
    code,
    quarantine: connection.quarantineReason
      ? {
          reason: connection.quarantineReason,
          currentBegan: connection.quarantineCurrentBegan,
          seriesBegan: connection.quarantineSeriesBegan,
          nextAttempt: connection.quarantineNextAttempt,
          seriesCount: connection.quarantineSeriesCount,
          error: connection.quarantineError,
        }
      : null,
    lastCycle: lastCycle
      ? {
          id: lastCycle.id,
          type: lastCycle.type,
          status: lastCycle.status,
          dryRun: lastCycle.dryRun,
          trigger: lastCycle.trigger,
          startedAt: lastCycle.startedAt,
          endedAt: lastCycle.endedAt,
          completedUnits: lastCycle.completedUnits,
          totalUnits: lastCycle.totalUnits,
          counts: lastCycle.counts,
          error: lastCycle.error,
          sourceUsers: {
            read: lastCycle.sourceUsersRead,
            before: lastCycle.sourceUsersBefore,
            held: lastCycle.sourceShrinkHeld,
          },
        }
      : null,
    lastSuccessfulCycle: lastSuccessful
      ? { id: lastSuccessful.id, endedAt: lastSuccessful.endedAt, counts: lastSuccessful.counts }
      : null,
    heldChanges: {
      count: heldCount,
      sample: heldSample.map((row) => ({
        objectType: row.objectType,
        sourceId: row.sourceId,
        action: row.action,
        displayName: row.displayName,
      })),
    },
    escrows: {
      objects: escrows.find((row) => row.kind === "object")?._count ?? 0,
      references: escrows.find((row) => row.kind === "reference")?._count ?? 0,
    },
    refusedAttributes,
    synchronizedEntryCountByType: {
      User: links.find((row) => row.objectType === "User")?._count ?? 0,
      Group: links.find((row) => row.objectType === "Group")?._count ?? 0,
    },
  };
}
