import {
  countUnitsIn,
  recordHandover,
  recordSourceUsers,
  recountUnits,
  withdrawUnstartedUnits,
} from "../cycle/state";
import crypto from "node:crypto";
import { Prisma, type Connection, type PrismaClient } from "../db/generated/client";
import { SecretBox } from "../crypto/secrets";
import { beginCycle, CycleAlreadyRunningError, enqueueCycleUnits } from "../cycle/units";
import { asConfigurationError, checkMappingAttributes } from "../cycle/configuration-error";
import { mailerFromEnvironment, sendNotification } from "../notify/notifications";
import { type ScimClient } from "../scim";
import { runCycle, type CycleOutcome } from "../sync/cycle";
import { QuarantineException } from "../sync/decide";
import { type CycleCounts } from "../sync/execute";
import { mappingEngineFor, isReferenceMapping } from "../sync/mapping-adapter";
import { type EndedCycleStatus } from "../cycle/outcome";
import { loadRefusalRegistry } from "./refused-attributes";
import type { PlannedMembership, PlannedOperation } from "../sync/plan";
import { getConnection } from "./connections";
import { prismaCycleStore, writerFor } from "./cycle-store";
import { loadMappingConfig } from "./mappings";
import { graphClientFor } from "./peers";
import { startMissingPollFeeds } from "./continuous-poll";
import { previewPlanWriter } from "./preview-store";
import { pruneTargetSnapshots, takeTargetSnapshot } from "./target-snapshot-store";
import { type RunCycleOptions, cycleScimClient } from "./cycle-peers";
import { type FanOutState, heldInfo, concludeCycle, endCycle } from "./cycle-end";
import { applyQuarantine } from "./quarantine-state";

/**
 * The provisioning cycle as a service: a "provisioning-cycle" job imports and plans a cycle
 * (lib/sync/cycle.ts) and applies what Entra applies around it: the watermark, escrow and deletion
 * thresholds, quarantine and its e-mail, and the schedule of the next cycle. A small cycle runs whole in
 * that job; one with more than a page of user operations fans out into cycle-unit jobs (`runCycleUnit`,
 * any worker, the connection's shared request budget), and its cycle-finalize job runs the groups and
 * members and concludes it once, after the last unit.
 */

const PLAN_RESULT_LIMIT = 1_000;

export interface RunCycleInput {
  connectionId: string;
  /** The provisioning-cycle job; it plans the cycle and owns its Cycle row. */
  jobId: string | null;
  trigger: string;
  dryRun: boolean;
  /** Continuous mode: when the poll that queued this cycle saw the change. */
  changeSeenAt?: Date;
  /** "Preview next cycle": the dry run's whole plan is stored in this PlanPreview. */
  previewId?: string;
  /** Applying a reviewed preview: only these fingerprints are sent, and the watermark stays. */
  approved?: { operations: ReadonlySet<string>; memberships: ReadonlySet<string> };
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
    ...(input.changeSeenAt ? { changeSeenAt: input.changeSeenAt } : {}),
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
  let countingUnits = false;
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

  const previewPlan = input.dryRun && input.previewId ? previewPlanWriter(db, input.previewId) : null;
  let outcome: CycleOutcome;
  try {
    const misconfigured = checkMappingAttributes(config);
    if (misconfigured) throw misconfigured;
    const previousUsers = input.approved ? null : await acceptedSourceUsers(db, connection.id);
    const scim = await cycleScimClient(db, connection, box, options);
    const graph = graphClientFor(connection, box);
    if (!input.dryRun) await startMissingPollFeeds(db, connection, graph, options.lease);
    outcome = await runCycle({
      ...(previewPlan ? { planSink: { ...previewPlan, pageSize: options.previewPageSize } } : {}),
      graph,
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
                if (!countingUnits) await write((tx) => recountUnits(tx, cycle.id));
                countingUnits = true;
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

  await write((tx) =>
    recordSourceUsers(tx, cycle.id, { ...outcome.source, held: outcome.source.shrink.hold }),
  );

  if (previewPlan) {
    await previewPlan.finish(box, connection, {
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
      deferred: { units: outcome.deferred.units, groupWorkSlices: outcome.deferred.groupWork.length },
    };
    // The finalizer reads this from the Cycle row; written under the planner's lease, so a planner that
    // lost its lease cannot hand over a plan the cycle does not run.
    await write((tx) => recordHandover(tx, cycle.id, handover, outcome.deferred!.groupWork), {
      timeoutMs: 60_000,
    });
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
 * (their links make those objects "no change" when planned again); units never claimed are withdrawn;
 * the rest (running, or handed back by a draining worker and queued again) are waited for, so planning
 * again cannot hand the same object to two units.
 */
async function resumePlanning(db: PrismaClient, cycleId: string, options: RunCycleOptions) {
  const write = writerFor(db, options.lease);
  await write((tx) => withdrawUnstartedUnits(tx, cycleId));
  await waitForUnits(db, cycleId, ["queued", "running"], options);
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
    const waiting = await countUnitsIn(db, cycleId, statuses);
    if (waiting === 0) return;
    options.log?.info({ waiting, statuses }, "planner waiting for units");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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
