import { randomUUID } from "node:crypto";
import type { GraphClient } from "../graph";
import { eq, type ScimClient } from "../scim";
import type { CycleLogEntry, CycleStore, EscrowRecord, HeldChangeRecord } from "./cycle-ports";
import {
  loadEntitlements,
  membershipInput,
  readSourcePages,
  type SourcePage,
  type SourceReadStats,
} from "./cycle-source";
import { asQuarantine, decideObjects, graphOrQuarantine, type DecisionContext } from "./decide";
import {
  emptyCounts,
  executeMembership,
  executeOperation,
  groupedMemberships,
  linkKey,
  linksForMemberships,
  logBase,
  sliceGroupWork,
  type CycleCounts,
  type DeferredReferences,
} from "./execute";
import {
  exceedsDeletionThreshold,
  isDeletion,
  planMemberships,
  summarizePlan,
  type CyclePlanSummary,
  type CycleType,
  type Evaluation,
  type ObjectType,
  type PlannedMembership,
  type PlannedOperation,
} from "./plan";
import type { ObjectLinkRecord, ObjectMappingEngine } from "./ports";
import { restrictMembershipsToApproved, restrictToApproved } from "./preview";
import type { RefusalRegistry } from "./refusals";
import { graphGroupSelectFor, graphSelectFor } from "./source";
import { decideSourceShrink, type SourceShrinkDecision } from "./source-shrink";

/**
 * One provisioning cycle, phase by phase as Entra runs it: import → scope → match → plan → execute →
 * references → new watermark. Everything goes through ports (Graph, SCIM, CycleStore), so the phases can
 * later run as separate cycle units on different workers.
 */

export interface ObjectSettings {
  enabled: boolean;
  engine: ObjectMappingEngine;
  actions: { create: boolean; update: boolean; delete: boolean };
  /** A listing of Dialpad taken for this cycle: objects are matched against it (lib/sync/decide.ts). */
  target?: DecisionContext["target"];
}

export interface CycleEngineContext {
  graph: GraphClient;
  scim: ScimClient;
  /** Attributes Dialpad refuses: left out of changes, learnt from 400s (lib/sync/refusals.ts). */
  refusals?: RefusalRegistry;
  store: CycleStore;
  /**
   * Lists Dialpad's users or groups for an initial cycle, so objects are matched against the listing
   * (one request per 100 objects) instead of a filter query each; null when the listing cannot be
   * trusted, and then matching falls back to queries.
   */
  listTarget?: (objectType: ObjectType) => Promise<DecisionContext["target"] | null>;
  users: ObjectSettings;
  /** The group engine must leave references out (members are the references phase's job). */
  groups: ObjectSettings & { provisionMembers: boolean };
  scope: "AssignedOnly" | "All";
  servicePrincipalId: string | null;
  cycleType: CycleType;
  dryRun: boolean;
  watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null };
  deletion: { preventAccidentalDeletes: boolean; deletionThreshold: number };
  /** Entra's SkipOutOfScopeDeletions: objects that leave scope stay as they are in Dialpad. */
  skipOutOfScopeDeletions?: boolean;
  /**
   * The source-shrink guard (lib/sync/source-shrink.ts): the assigned users the last accepted cycle
   * read. Absent, the guard does not apply (applying a reviewed preview).
   */
  sourceShrink?: { previousUsers: number | null; maxShrinkPercent: number };
  /**
   * Applying a reviewed preview: only operations and member changes whose fingerprints the admin
   * approved are sent; anything new or different is skipped with the reason (lib/sync/preview.ts).
   */
  approved?: { operations: ReadonlySet<string>; memberships: ReadonlySet<string> };
  now?: () => Date;
  /**
   * A dry run's plan as it is planned (a preview's rows): the plan is handed over a page at a time and
   * not kept; `withdraw` takes back an object's operation when Graph lists it again in the same round.
   */
  planSink?: {
    /** Operations handed over at a time (default 500). */
    pageSize?: number;
    write(operations: PlannedOperation[]): Promise<void>;
    withdraw(objectType: ObjectType, sourceId: string): Promise<void>;
  };
  /** Objects per progress unit of the execute phase. */
  unitSize?: number;
  /**
   * Fan-out of the execute phase into cycle units (lib/jobs/cycles.ts): when more than `pageSize` user
   * operations are planned, `enqueue` receives them in pages (false: refused, the cycle is stopping) and
   * the cycle returns `deferred`, the group operations and members its finalizer runs once every unit ended.
   */
  fanOut?: {
    pageSize: number;
    enqueue(pages: PlannedOperation[][]): Promise<boolean>;
    /** Resolves once every unit enqueued so far has ended (a repeated object waits for its first decision). */
    settle(): Promise<void>;
  };
  log?: {
    info(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
  };
}

export interface CycleOutcome {
  cycleType: CycleType;
  counts: CycleCounts;
  planned: CyclePlanSummary;
  /** Every planned operation, for a dry run (a preview shows them); empty otherwise, since it streamed. */
  plan: PlannedOperation[];
  /** Names of up to ten objects that failed while planning (for the failure e-mail). */
  failedSample: string[];
  memberships: PlannedMembership[];
  held: PlannedOperation[];
  /**
   * Assigned users read from Entra ID (null: not measured), the count of the last accepted cycle they
   * were compared with, and what the source-shrink guard decided.
   */
  source: { usersRead: number | null; usersBefore: number | null; shrink: SourceShrinkDecision };
  /** The next watermark; null when it must not move (dry run, stopped). */
  watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null } | null;
  stopped: boolean;
  /** Set when the user operations went to cycle units: what the finalizer still has to run. */
  deferred?: DeferredReferences;
}

/**
 * Planned user operations gathered before they go to units, one enqueue transaction. An operation
 * carries its log steps (about 7 KB), so 20 units' worth held 14 MB at once; 5 keep the planner's
 * window small while a transaction a second or so is no load on the Cycle row.
 */
const UNITS_PER_FLUSH = 5;
/** Planned operations a dry run hands to its plan sink at a time. */
const PLAN_SINK_PAGE = 500;

interface Decided {
  kind: PlannedOperation["kind"];
  inScope: boolean;
}

export async function runCycle(context: CycleEngineContext): Promise<CycleOutcome> {
  const now = context.now ?? (() => new Date());
  const unitSize = context.unitSize ?? 50;
  const { store, scim, fanOut } = context;
  const counts = emptyCounts();
  let completedUnits = 0;
  let totalUnits = 1;
  let fannedOut = false;
  const unitDone = async (extraTotal = 0) => {
    completedUnits += 1;
    totalUnits = Math.max(totalUnits + extraTotal, completedUnits);
    // Once units exist, the cycle's progress is theirs (counted from their rows).
    if (!fannedOut) await store.progress(completedUnits, totalUnits);
  };

  // Entra's first request of an activity: a match query that cannot match, proving the URL and token.
  try {
    await scim.findUsers(eq("userName", `${randomUUID()}@probe.invalid`));
  } catch (error) {
    throw asQuarantine(error) ?? error;
  }

  const escrows = await store.loadEscrows();
  const held = await store.loadHeldChanges();
  const isDue = (escrow: EscrowRecord) => escrow.nextRetryAt.getTime() <= now().getTime();
  const entitlements = await graphOrQuarantine(() => loadEntitlements(context));
  await unitDone(1);
  let cycleType = context.cycleType;

  // ── What streams out of planning ──────────────────────────────────────────────────────────────────
  const summary = summarizePlan([]);
  const plan: PlannedOperation[] = [];
  const failedSample: string[] = [];
  /** Disables and deletes wait for the accidental-deletion check, which needs the cycle's total. */
  const deletions: { operation: PlannedOperation; inScope: boolean }[] = [];
  const groupOperations: PlannedOperation[] = [];
  let userBuffer: PlannedOperation[] = [];
  let unitsQueued = 0;
  let stopped = false;
  const notApproved = new Set<string>();
  const membershipGroups = context.groups.enabled && context.groups.provisionMembers;
  const provisionedUsers = new Set<string>();
  const groupsInScope = new Map<string, string | null>();
  for await (const link of allLinks(store, "User"))
    if (link.exportedHash !== null) provisionedUsers.add(link.sourceId);
  if (membershipGroups)
    for await (const link of allLinks(store, "Group")) {
      if (link.exportedHash === null) continue;
      if (entitlements.entitledGroupIds && !entitlements.entitledGroupIds.has(link.sourceId)) continue;
      groupsInScope.set(link.sourceId, link.displayName);
    }

  const flushUnits = async (all: boolean) => {
    if (!fanOut || stopped) return;
    const pageSize = Math.max(1, fanOut.pageSize);
    const take = all ? userBuffer.length : Math.floor(userBuffer.length / pageSize) * pageSize;
    if (take === 0) return;
    const pages: PlannedOperation[][] = [];
    for (let offset = 0; offset < take; offset += pageSize)
      pages.push(userBuffer.slice(offset, Math.min(offset + pageSize, take)));
    userBuffer = userBuffer.slice(take);
    fannedOut = true;
    if (await fanOut.enqueue(pages)) unitsQueued += pages.length;
    else stopped = true;
  };
  const scopeEffect = (operation: PlannedOperation, inScope: boolean) => {
    if (notApproved.has(linkKey(operation.objectType, operation.sourceId))) return;
    if (operation.objectType === "User") {
      if (inScope) provisionedUsers.add(operation.sourceId);
      else provisionedUsers.delete(operation.sourceId);
    } else if (membershipGroups) {
      if (inScope) groupsInScope.set(operation.sourceId, operation.displayName);
      else groupsInScope.delete(operation.sourceId);
    }
  };
  const release = async (operation: PlannedOperation) => {
    if (operation.objectType === "Group") {
      groupOperations.push(operation);
      return;
    }
    userBuffer.push(operation);
    if (fanOut && userBuffer.length >= Math.max(1, fanOut.pageSize) * UNITS_PER_FLUSH)
      await flushUnits(false);
  };
  const accept = async (
    evaluation: Evaluation,
    decided: PlannedOperation,
    seen: Map<string, Decided | null>,
  ) => {
    let operation = decided;
    if (context.approved) {
      const restricted = restrictToApproved([decided], context.approved.operations);
      operation = restricted.plan[0]!;
      if (restricted.notApproved.length) notApproved.add(linkKey(operation.objectType, operation.sourceId));
    }
    seen.set(operation.sourceId, { kind: operation.kind, inScope: evaluation.inScope });
    if (evaluation.inScope) counts.countEntitled += 1;
    summary[operation.kind] += 1;
    if (operation.kind === "fail" && failedSample.length < 10)
      failedSample.push(operation.displayName ?? operation.sourceId);
    if (context.dryRun) {
      plan.push(operation);
      // A preview's plan goes to its rows a page at a time instead of staying here.
      if (context.planSink && plan.length >= (context.planSink.pageSize ?? PLAN_SINK_PAGE))
        await context.planSink.write(plan.splice(0));
    }
    if (isDeletion(operation)) {
      deletions.push({ operation, inScope: evaluation.inScope });
      return;
    }
    scopeEffect(operation, evaluation.inScope);
    if (!context.dryRun) await release(operation);
  };
  /** A repeated object's earlier decision is withdrawn; false when it already went to a unit. */
  const withdraw = async (objectType: ObjectType, sourceId: string, seen: Map<string, Decided | null>) => {
    const earlier = seen.get(sourceId);
    if (!earlier) return true;
    if (earlier.inScope) counts.countEntitled -= 1;
    summary[earlier.kind] -= 1;
    const same = (operation: PlannedOperation) =>
      operation.objectType === objectType && operation.sourceId === sourceId;
    const removeFrom = (list: PlannedOperation[]) => {
      const index = list.findIndex(same);
      if (index >= 0) list.splice(index, 1);
      return index >= 0;
    };
    if (!removeFrom(plan) && context.planSink) await context.planSink.withdraw(objectType, sourceId);
    const deletion = deletions.findIndex((entry) => same(entry.operation));
    if (deletion >= 0) {
      deletions.splice(deletion, 1);
      return true;
    }
    return removeFrom(objectType === "User" ? userBuffer : groupOperations) || context.dryRun;
  };

  // ── Import, scope, match and plan, a page at a time ─────────────────────────────────────────────
  const deltaLinks = { User: context.watermark.usersDeltaLink, Group: context.watermark.groupsDeltaLink };
  const usersPresent = { value: null as number | null };
  const objectTypes: ObjectType[] = [
    ...(context.users.enabled ? (["User"] as const) : []),
    ...(context.groups.enabled ? (["Group"] as const) : []),
  ];
  for (const objectType of objectTypes) {
    const settings = objectType === "User" ? context.users : context.groups;
    const select =
      objectType === "User"
        ? graphSelectFor(context.users.engine.sourceAttributes())
        : graphGroupSelectFor(context.groups.engine.sourceAttributes());
    const stats: SourceReadStats = {
      candidates: 0,
      deltaObjects: 0,
      presentObjects: 0,
      deltaLink: deltaLinks[objectType],
      cycleType,
    };
    const seen = new Map<string, Decided | null>();
    let target: DecisionContext["target"] | null | undefined;
    const decide = async (objects: SourcePage["objects"]) => {
      // The listing of Dialpad is taken when the first object needs it: an empty read lists nothing.
      if (target === undefined) target = await listed(context, objectType, cycleType);
      return decideObjects(objects, {
        objectType,
        engine: settings.engine,
        actions: settings.actions,
        cycleType,
        now: now().toISOString(),
        skipOutOfScopeDeletions: context.skipOutOfScopeDeletions ?? false,
        scim,
        ...(target ? { target } : {}),
      });
    };
    const pages = readSourcePages({
      context,
      objectType,
      cycleType,
      deltaLink: deltaLinks[objectType],
      select,
      entitlements,
      escrows,
      held,
      isDue,
      seen,
      stats,
    });
    for await (const page of pages) {
      cycleType = stats.cycleType;
      if (page.repeated) {
        let waiting = 0;
        for (const { candidate } of page.objects)
          if (!(await withdraw(objectType, candidate.sourceId, seen))) waiting += 1;
        // Its first decision is in a unit already: that unit must have run before the newer state is decided.
        if (waiting > 0 && fanOut) await fanOut.settle();
      }
      for (let offset = 0; offset < page.objects.length; offset += unitSize) {
        const chunk = page.objects.slice(offset, offset + unitSize);
        for (const { evaluation, operation } of await decide(chunk))
          await accept(evaluation, operation, seen);
        if (chunk.length === unitSize) await unitDone(1);
        if (stopped) break;
      }
      if (stopped) break;
    }
    cycleType = stats.cycleType;
    counts.countImported += stats.candidates;
    counts.countImportedDeltas += stats.deltaObjects;
    deltaLinks[objectType] = stats.deltaLink;
    if (objectType === "User") usersPresent.value = stats.presentObjects;
    if (stopped) break;
  }

  // ── Accidental deletions prevention, and the source-shrink guard (which ignores the threshold) ──
  const usersRead = context.users.enabled ? (entitlements.entitledUserIds?.size ?? usersPresent.value) : null;
  const planned = deletions.map((entry) => entry.operation);
  const shrink: SourceShrinkDecision = context.sourceShrink
    ? decideSourceShrink({
        current: usersRead,
        previous: context.sourceShrink.previousUsers,
        maxShrinkPercent: context.sourceShrink.maxShrinkPercent,
        deletionsPlanned: planned.length,
        counted: entitlements.entitledUserIds ? "assigned users" : "users",
      })
    : { hold: false, reason: null };
  const source = { usersRead, usersBefore: context.sourceShrink?.previousUsers ?? null, shrink };
  const holding = shrink.hold || exceedsDeletionThreshold(planned, context.deletion);
  const heldOperations = holding ? planned : [];
  counts.held = heldOperations.length;
  // A held object keeps the membership state of its link until the deletion is allowed.
  // Disables and deletes go before the creates and updates not yet sent: someone who left loses
  // Dialpad first, and a userName a deleted account held is free before a create needs it.
  if (!holding) {
    const waiting = userBuffer;
    userBuffer = [];
    for (const { operation, inScope } of deletions) {
      scopeEffect(operation, inScope);
      if (!context.dryRun) await release(operation);
    }
    for (const operation of waiting) await release(operation);
  }

  const watermark = { usersDeltaLink: deltaLinks.User, groupsDeltaLink: deltaLinks.Group };
  if (context.dryRun) {
    if (context.planSink && plan.length > 0) await context.planSink.write(plan.splice(0));
    const memberships = membershipGroups
      ? planMemberships({
          groups: await graphOrQuarantine(() => membershipInput(context, groupsInScope, entitlements)),
          exported: groupedMemberships(await store.loadMemberships()),
          provisionedUsers,
        })
      : [];
    return {
      cycleType,
      counts,
      planned: summary,
      plan,
      failedSample,
      memberships,
      held: heldOperations,
      source,
      watermark: null,
      stopped: false,
    };
  }

  if (holding) {
    await store.replaceHeldChanges(
      heldOperations.map((operation): HeldChangeRecord => ({
        objectType: operation.objectType,
        sourceId: operation.sourceId,
        targetId: operation.targetId!,
        action: operation.kind === "delete" ? "Delete" : "Disable",
        displayName: operation.displayName,
      })),
    );
    await store.writeLogs(
      heldOperations.map((operation) => stagedDeleteEntry(operation, heldOperations.length, shrink, context)),
    );
  } else if (held.length > 0) {
    await store.replaceHeldChanges([]);
  }

  const outcome = {
    cycleType,
    counts,
    planned: summary,
    plan,
    failedSample,
    held: heldOperations,
    source,
  };
  if (fannedOut || (fanOut && userBuffer.length > fanOut.pageSize)) {
    await flushUnits(true);
    const membershipGroupsInput =
      membershipGroups && !stopped
        ? await graphOrQuarantine(() => membershipInput(context, groupsInScope, entitlements))
        : null;
    return {
      ...outcome,
      memberships: [],
      watermark: stopped ? null : watermark,
      stopped,
      deferred: {
        units: unitsQueued,
        groupWork: sliceGroupWork({
          groupOperations,
          membershipGroups: membershipGroupsInput,
          provisionedUsers,
        }),
      },
    };
  }

  // ── Execute in this job: a cycle with few changes ───────────────────────────────────────────────
  totalUnits =
    completedUnits + Math.max(1, Math.ceil(userBuffer.length / unitSize)) + (membershipGroups ? 1 : 0);
  await store.progress(completedUnits, totalUnits);
  const links = new Map<string, ObjectLinkRecord>();
  const logs: CycleLogEntry[] = [];
  const groupLogs = new Map<string, CycleLogEntry>();
  let memberships: PlannedMembership[] = [];
  try {
    for (const [index, operation] of [...userBuffer, ...groupOperations].entries()) {
      if (index > 0 && index % unitSize === 0) {
        await store.writeLogs(logs.splice(0));
        await unitDone();
        if (await store.stopRequested()) {
          stopped = true;
          break;
        }
      }
      const entry = await executeOperation(context, operation, links, counts);
      if (!entry) continue;
      if (operation.objectType === "Group") groupLogs.set(operation.sourceId, entry);
      else logs.push(entry);
    }
    await store.writeLogs(logs.splice(0));
    await unitDone();

    // ── References: group members, once the users exist ───────────────────────────────────────────
    if (membershipGroups && !stopped) {
      memberships = planMemberships({
        groups: await graphOrQuarantine(() => membershipInput(context, groupsInScope, entitlements)),
        exported: groupedMemberships(await store.loadMemberships()),
        provisionedUsers,
      });
      if (context.approved)
        memberships = restrictMembershipsToApproved(memberships, context.approved.memberships).memberships;
      const memberLinks = await linksForMemberships(store, memberships);
      for (const membership of memberships) {
        const entry = await executeMembership(
          context,
          membership,
          memberLinks,
          counts,
          groupLogs.get(membership.groupSourceId),
        );
        if (entry) groupLogs.set(membership.groupSourceId, entry);
      }
      await unitDone();
    }
  } finally {
    // Whatever ran is in Dialpad: its log entries are written even when a quarantine aborts the cycle.
    logs.push(...groupLogs.values());
    await store.writeLogs(logs.splice(0));
  }
  return { ...outcome, memberships, watermark: stopped ? null : watermark, stopped };
}

async function* allLinks(store: CycleStore, objectType: ObjectType): AsyncGenerator<ObjectLinkRecord> {
  for (let after: string | null = null; ;) {
    const links = await store.pageLinks(objectType, after, 1_000);
    if (links.length === 0) return;
    after = links[links.length - 1]!.sourceId;
    yield* links;
  }
}

/** Dialpad's listing for an initial cycle, or undefined: matching then asks Dialpad object by object. */
async function listed(context: CycleEngineContext, objectType: ObjectType, cycleType: CycleType) {
  if (cycleType !== "initial" || !context.listTarget) return null;
  try {
    return await context.listTarget(objectType);
  } catch (error) {
    const quarantine = asQuarantine(error);
    if (quarantine) throw quarantine;
    context.log?.warn(
      { objectType, err: error instanceof Error ? error.message : String(error) },
      "listing Dialpad failed; matching with one query per object",
    );
    return null;
  }
}

function stagedDeleteEntry(
  operation: PlannedOperation,
  heldCount: number,
  shrink: SourceShrinkDecision,
  context: CycleEngineContext,
): CycleLogEntry {
  return {
    ...logBase(operation),
    action: "StagedDelete",
    status: "Skipped",
    errorCode: "TooManyDeletes",
    errorCategory: "nonServiceFailure",
    errorReason: `${operation.reason}. The ${operation.kind === "delete" ? "deletion" : "disable"} was held because ${
      shrink.reason
        ? `${shrink.reason} Every disable and delete of the cycle is held, whatever the accidental deletion threshold.`
        : `this cycle would disable or delete ${heldCount} objects, more than the accidental deletion threshold of ${context.deletion.deletionThreshold}.`
    }`,
    recommendedAction: shrink.reason
      ? "If Microsoft Entra ID really has that many fewer users, select Allow deletes. Otherwise restore the read (the app's assignments, the assigned groups, Graph permissions), then restart provisioning."
      : "If these removals are intended, select Allow deletes; otherwise fix the assignments or scoping, then restart provisioning.",
    durationMs: 0,
  };
}
