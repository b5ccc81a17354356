import { randomUUID } from "node:crypto";
import { GraphError, type GraphClient, type GraphGroup, type GraphUser } from "../graph";
import { eq, type ScimClient } from "../scim";
import {
  entitlementOfGroup,
  entitlementOfUser,
  indexAssignments,
  SYNC_ALL,
  type AssignmentIndex,
} from "./assignment";
import type { CycleLogEntry, CycleStore, EscrowRecord, HeldChangeRecord } from "./cycle-ports";
import {
  exceedsDeletionThreshold,
  isDeletion,
  planMemberships,
  summarizePlan,
  type CyclePlanSummary,
  type CycleType,
  type Entitlement,
  type Evaluation,
  type ObjectType,
  type PlannedMembership,
  type PlannedOperation,
  type SourceCandidate,
} from "./plan";
import type { ObjectLinkRecord, ObjectMappingEngine } from "./ports";
import { restrictMembershipsToApproved, restrictToApproved } from "./preview";
import { graphGroupSelectFor, graphSelectFor } from "./source";
import { decideSourceShrink, type SourceShrinkDecision } from "./source-shrink";

import type { RefusalRegistry } from "./refusals";
import {
  asQuarantine,
  decideObjects,
  graphOrQuarantine,
  NO_ENTITLEMENT,
  toCandidate,
  type DecisionContext,
} from "./decide";
import {
  emptyCounts,
  executeMembership,
  executeOperation,
  groupedMemberships,
  linkKey,
  logBase,
  type CycleCounts,
  type DeferredReferences,
} from "./execute";

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
  /** Objects per progress unit of the execute phase. */
  unitSize?: number;
  /**
   * Fan-out of the execute phase into cycle units (lib/jobs/cycles.ts): when more than `pageSize` user
   * operations are planned, `enqueue` receives them in pages (false: refused, the cycle is stopping) and
   * the cycle returns `deferred`, the group operations and members its finalizer runs once every unit ended.
   */
  fanOut?: { pageSize: number; enqueue(pages: PlannedOperation[][]): Promise<boolean> };
  log?: {
    info(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
  };
}

export interface CycleOutcome {
  cycleType: CycleType;
  counts: CycleCounts;
  planned: CyclePlanSummary;
  plan: PlannedOperation[];
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

/** What a fanned-out cycle's finalizer runs after its units: groups, then their members (references). */

interface EntitlementIndex {
  user(id: string): Entitlement;
  group(id: string): Entitlement;
  /** Users entitled through assignments (AssignedOnly); null for scope All. */
  entitledUserIds: Set<string> | null;
  entitledGroupIds: Set<string> | null;
  /** Direct user members of the groups read for entitlement. */
  membersOf: Map<string, string[]>;
}

export async function runCycle(context: CycleEngineContext): Promise<CycleOutcome> {
  const now = context.now ?? (() => new Date());
  const unitSize = context.unitSize ?? 50;
  const { store, graph, scim } = context;
  const counts = emptyCounts();
  let completedUnits = 0;
  let totalUnits = 1;
  const unitDone = async (extraTotal = 0) => {
    completedUnits += 1;
    totalUnits = Math.max(totalUnits + extraTotal, completedUnits);
    await store.progress(completedUnits, totalUnits);
  };

  // Entra's first request of an activity: a match query that cannot match, proving the URL and token.
  try {
    await scim.findUsers(eq("userName", `${randomUUID()}@probe.invalid`));
  } catch (error) {
    throw asQuarantine(error) ?? error;
  }

  const links = new Map<string, ObjectLinkRecord>();
  for (const link of await store.loadLinks()) links.set(linkKey(link.objectType, link.sourceId), link);
  const escrows = await store.loadEscrows();
  const held = await store.loadHeldChanges();
  const isDue = (escrow: EscrowRecord) => escrow.nextRetryAt.getTime() <= now().getTime();

  // ── Import and scope ────────────────────────────────────────────────────────────────────────────
  const entitlements = await graphOrQuarantine(() => loadEntitlements(context));
  await unitDone(1);
  let cycleType = context.cycleType;
  const userSelect = graphSelectFor(context.users.engine.sourceAttributes());
  const groupSelect = graphGroupSelectFor(context.groups.engine.sourceAttributes());

  const readDelta = async <T extends GraphUser | GraphGroup>(
    kind: "users" | "groups",
    deltaLink: string | null,
    select: string[],
  ): Promise<{ objects: Map<string, T>; deltaLink: string | null; incremental: boolean }> => {
    const objects = new Map<string, T>();
    const incremental = cycleType === "incremental" && deltaLink !== null;
    let next: string | null = null;
    const pages =
      kind === "users"
        ? graph.usersDelta(incremental ? { deltaLink: deltaLink! } : { select })
        : graph.groupsDelta(incremental ? { deltaLink: deltaLink! } : { select });
    // Graph may list an object twice in one round; the later entry is the newer state.
    for await (const page of pages as AsyncIterable<{ value: T[]; deltaLink?: string }>) {
      for (const object of page.value) objects.set(object.id, object);
      if (page.deltaLink) next = page.deltaLink;
      await unitDone(1);
    }
    return { objects, deltaLink: next, incremental };
  };

  const importWith = async <T extends GraphUser | GraphGroup>(
    kind: "users" | "groups",
    deltaLink: string | null,
    select: string[],
  ) => {
    try {
      return await graphOrQuarantine(() => readDelta<T>(kind, deltaLink, select));
    } catch (error) {
      // An expired or unknown delta token: Graph wants a full resync, which is an initial cycle.
      if (error instanceof GraphError && (error.resyncRequired || error.code === "syncStateNotFound")) {
        context.log?.warn({ kind, code: error.code }, "delta link rejected; reading everything again");
        cycleType = "initial";
        return graphOrQuarantine(() => readDelta<T>(kind, null, select));
      }
      throw error;
    }
  };

  const userImport = context.users.enabled
    ? await importWith<GraphUser>("users", context.watermark.usersDeltaLink, userSelect)
    : {
        objects: new Map<string, GraphUser>(),
        deltaLink: context.watermark.usersDeltaLink,
        incremental: false,
      };
  const groupImport = context.groups.enabled
    ? await importWith<GraphGroup>("groups", context.watermark.groupsDeltaLink, groupSelect)
    : {
        objects: new Map<string, GraphGroup>(),
        deltaLink: context.watermark.groupsDeltaLink,
        incremental: false,
      };

  const userCandidates = context.users.enabled
    ? await collectCandidates(
        context,
        "User",
        userImport,
        entitlements,
        links,
        escrows,
        held,
        isDue,
        userSelect,
      )
    : [];
  const groupCandidates = context.groups.enabled
    ? await collectCandidates(
        context,
        "Group",
        groupImport,
        entitlements,
        links,
        escrows,
        held,
        isDue,
        groupSelect,
      )
    : [];
  counts.countImported = userCandidates.length + groupCandidates.length;
  counts.countImportedDeltas =
    (userImport.incremental ? userImport.objects.size : 0) +
    (groupImport.incremental ? groupImport.objects.size : 0);

  // ── Match and plan ──────────────────────────────────────────────────────────────────────────────
  const planFor = async (candidates: SourceCandidate[], settings: ObjectSettings, objectType: ObjectType) => {
    const operations: { evaluation: Evaluation; operation: PlannedOperation }[] = [];
    for (let offset = 0; offset < candidates.length; offset += unitSize) {
      const chunk = candidates.slice(offset, offset + unitSize);
      // The Dialpad reads are independent, so a few run at once: one at a time, an initial cycle of
      // 100,000 users spends most of its planning waiting on the target's latency. The request limiter
      // still paces them.
      const decisions = await decideObjects(
        chunk.map((candidate) => ({
          candidate,
          link: links.get(linkKey(objectType, candidate.sourceId)) ?? null,
        })),
        {
          objectType,
          engine: settings.engine,
          actions: settings.actions,
          cycleType,
          now: now().toISOString(),
          skipOutOfScopeDeletions: context.skipOutOfScopeDeletions ?? false,
          scim,
          ...(settings.target ? { target: settings.target } : {}),
        },
      );
      for (const { evaluation, operation } of decisions) {
        if (evaluation.inScope) counts.countEntitled += 1;
        operations.push({ evaluation, operation });
      }
      if (chunk.length === unitSize) await unitDone(1);
    }
    return operations;
  };
  const listed = async (objectType: ObjectType, candidates: number) => {
    if (cycleType !== "initial" || !context.listTarget || candidates === 0) return undefined;
    try {
      return (await context.listTarget(objectType)) ?? undefined;
    } catch (error) {
      const quarantine = asQuarantine(error);
      if (quarantine) throw quarantine;
      context.log?.warn(
        { objectType, err: error instanceof Error ? error.message : String(error) },
        "listing Dialpad failed; matching with one query per object",
      );
      return undefined;
    }
  };
  const userPlan = await planFor(
    userCandidates,
    { ...context.users, target: await listed("User", userCandidates.length) },
    "User",
  );
  const groupPlan = await planFor(
    groupCandidates,
    { ...context.groups, target: await listed("Group", groupCandidates.length) },
    "Group",
  );
  let plan = [...userPlan, ...groupPlan].map((entry) => entry.operation);
  // Not applied (not in the approved preview): such a user keeps the membership state of its link.
  const notApproved = new Set<string>();
  if (context.approved) {
    const restricted = restrictToApproved(plan, context.approved.operations);
    plan = restricted.plan;
    for (const operation of restricted.notApproved)
      notApproved.add(linkKey(operation.objectType, operation.sourceId));
  }

  // ── Accidental deletions prevention, and the source-shrink guard (which ignores the threshold) ──
  const usersRead = context.users.enabled
    ? (entitlements.entitledUserIds?.size ??
      (userImport.incremental ? null : [...userImport.objects.values()].filter((u) => !u["@removed"]).length))
    : null;
  const shrink: SourceShrinkDecision = context.sourceShrink
    ? decideSourceShrink({
        current: usersRead,
        previous: context.sourceShrink.previousUsers,
        maxShrinkPercent: context.sourceShrink.maxShrinkPercent,
        deletionsPlanned: plan.filter(isDeletion).length,
        counted: entitlements.entitledUserIds ? "assigned users" : "users",
      })
    : { hold: false, reason: null };
  const source = { usersRead, usersBefore: context.sourceShrink?.previousUsers ?? null, shrink };
  const holding = shrink.hold || exceedsDeletionThreshold(plan, context.deletion);
  const heldOperations = holding ? plan.filter(isDeletion) : [];
  const heldKeys = new Set(
    heldOperations.map((operation) => linkKey(operation.objectType, operation.sourceId)),
  );
  counts.held = heldOperations.length;

  // ── References plan (group members), from the plan rather than from results, so a dry run shows it ──
  const membershipGroups = context.groups.enabled && context.groups.provisionMembers;
  const provisionedUsers = new Set<string>();
  for (const link of links.values())
    if (link.objectType === "User" && link.exportedHash !== null) provisionedUsers.add(link.sourceId);
  for (const { evaluation, operation } of userPlan) {
    if (heldKeys.has(linkKey("User", operation.sourceId))) continue;
    if (notApproved.has(linkKey("User", operation.sourceId))) continue;
    if (evaluation.inScope) provisionedUsers.add(operation.sourceId);
    else provisionedUsers.delete(operation.sourceId);
  }
  const groupsInScope = new Map<string, string | null>();
  if (membershipGroups) {
    for (const link of links.values()) {
      if (link.objectType !== "Group" || link.exportedHash === null) continue;
      if (entitlements.entitledGroupIds && !entitlements.entitledGroupIds.has(link.sourceId)) continue;
      groupsInScope.set(link.sourceId, link.displayName);
    }
    for (const { evaluation, operation } of groupPlan) {
      if (notApproved.has(linkKey("Group", operation.sourceId))) continue;
      if (evaluation.inScope) groupsInScope.set(operation.sourceId, operation.displayName);
      else if (!heldKeys.has(linkKey("Group", operation.sourceId))) groupsInScope.delete(operation.sourceId);
    }
  }

  if (context.dryRun) {
    const memberships = membershipGroups
      ? planMemberships({
          groups: await membershipInput(context, groupsInScope, entitlements),
          exported: groupedMemberships(await store.loadMemberships()),
          provisionedUsers,
        })
      : [];
    return {
      cycleType,
      counts,
      planned: summarizePlan(plan),
      plan,
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
  } else if (held.length > 0) {
    await store.replaceHeldChanges([]);
  }

  // ── Execute ─────────────────────────────────────────────────────────────────────────────────────
  const logs: CycleLogEntry[] = [];
  const groupLogs = new Map<string, CycleLogEntry>();
  const flushLogs = async () => {
    if (logs.length === 0) return;
    await store.writeLogs(logs.splice(0));
  };
  const toExecute = plan.filter(
    (operation) => !heldKeys.has(linkKey(operation.objectType, operation.sourceId)),
  );
  totalUnits =
    completedUnits + Math.max(1, Math.ceil(toExecute.length / unitSize)) + (membershipGroups ? 1 : 0);
  await store.progress(completedUnits, totalUnits);

  for (const operation of heldOperations) {
    logs.push({
      ...logBase(operation),
      action: "StagedDelete",
      status: "Skipped",
      errorCode: "TooManyDeletes",
      errorCategory: "nonServiceFailure",
      errorReason: `${operation.reason}. The ${operation.kind === "delete" ? "deletion" : "disable"} was held because ${
        shrink.reason
          ? `${shrink.reason} Every disable and delete of the cycle is held, whatever the accidental deletion threshold.`
          : `this cycle would disable or delete ${heldOperations.length} objects, more than the accidental deletion threshold of ${context.deletion.deletionThreshold}.`
      }`,
      recommendedAction: shrink.reason
        ? "If Microsoft Entra ID really has that many fewer users, select Allow deletes. Otherwise restore the read (the app's assignments, the assigned groups, Graph permissions), then restart provisioning."
        : "If these removals are intended, select Allow deletes; otherwise fix the assignments or scoping, then restart provisioning.",
      durationMs: 0,
    });
  }

  const userOperations = toExecute.filter((operation) => operation.objectType === "User");
  if (context.fanOut && userOperations.length > context.fanOut.pageSize) {
    const pageSize = Math.max(1, context.fanOut.pageSize);
    const pages: PlannedOperation[][] = [];
    for (let offset = 0; offset < userOperations.length; offset += pageSize)
      pages.push(userOperations.slice(offset, offset + pageSize));
    const membershipGroupsInput = membershipGroups
      ? await membershipInput(context, groupsInScope, entitlements)
      : null;
    await flushLogs();
    const accepted = await context.fanOut.enqueue(pages);
    return {
      cycleType,
      counts,
      planned: summarizePlan(plan),
      plan,
      memberships: [],
      held: heldOperations,
      source,
      watermark: accepted
        ? { usersDeltaLink: userImport.deltaLink, groupsDeltaLink: groupImport.deltaLink }
        : null,
      stopped: !accepted,
      ...(accepted
        ? {
            deferred: {
              units: pages.length,
              groupOperations: toExecute.filter((operation) => operation.objectType === "Group"),
              membershipGroups: membershipGroupsInput,
              provisionedUsers: [...provisionedUsers],
            },
          }
        : {}),
    };
  }

  let stopped = false;
  let memberships: PlannedMembership[] = [];
  try {
    for (const [index, operation] of toExecute.entries()) {
      if (index > 0 && index % unitSize === 0) {
        await flushLogs();
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
    await flushLogs();
    await unitDone();

    // ── References: group members, once the users exist ───────────────────────────────────────────
    if (membershipGroups && !stopped) {
      memberships = planMemberships({
        groups: await membershipInput(context, groupsInScope, entitlements),
        exported: groupedMemberships(await store.loadMemberships()),
        provisionedUsers,
      });
      if (context.approved)
        memberships = restrictMembershipsToApproved(memberships, context.approved.memberships).memberships;
      for (const membership of memberships) {
        const entry = await executeMembership(
          context,
          membership,
          links,
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
    await flushLogs();
  }

  return {
    cycleType,
    counts,
    planned: summarizePlan(plan),
    plan,
    memberships,
    held: heldOperations,
    source,
    watermark: stopped
      ? null
      : { usersDeltaLink: userImport.deltaLink, groupsDeltaLink: groupImport.deltaLink },
    stopped,
  };
}

async function loadEntitlements(context: CycleEngineContext): Promise<EntitlementIndex> {
  const membersOf = new Map<string, string[]>();
  if (context.scope === "All") {
    return {
      user: () => SYNC_ALL,
      group: () => SYNC_ALL,
      entitledUserIds: null,
      entitledGroupIds: null,
      membersOf,
    };
  }
  if (!context.servicePrincipalId) {
    throw new Error(
      "The Dialpad enterprise application (service principal) is not configured, so assignments cannot be read.",
    );
  }
  const assignments = [];
  for await (const page of context.graph.listAppRoleAssignedTo(context.servicePrincipalId))
    assignments.push(...page.value);
  const index: AssignmentIndex = indexAssignments(assignments);
  const userGroups = new Map<string, string[]>();
  // Entra follows direct membership only: the members of an assigned group, never of groups nested in it.
  for (const groupId of [...index.groupRoles.keys(), ...index.defaultAccessGroups]) {
    const members: string[] = [];
    for await (const page of context.graph.listGroupMembers(groupId, ["id"])) {
      for (const member of page.value) {
        if (
          !String(member["@odata.type"] ?? "#microsoft.graph.user")
            .toLowerCase()
            .endsWith("user")
        )
          continue;
        members.push(member.id);
        userGroups.set(member.id, [...(userGroups.get(member.id) ?? []), groupId]);
      }
    }
    membersOf.set(groupId, members);
  }
  const entitledUserIds = new Set<string>(index.userRoles.keys());
  for (const groupId of index.groupRoles.keys())
    for (const member of membersOf.get(groupId) ?? []) entitledUserIds.add(member);
  return {
    user: (id) => entitlementOfUser(index, id, userGroups.get(id) ?? []),
    group: (id) => entitlementOfGroup(index, id),
    entitledUserIds,
    entitledGroupIds: new Set(index.groupRoles.keys()),
    membersOf,
  };
}

async function collectCandidates(
  context: CycleEngineContext,
  objectType: ObjectType,
  imported: { objects: Map<string, GraphUser | GraphGroup>; incremental: boolean },
  entitlements: EntitlementIndex,
  links: Map<string, ObjectLinkRecord>,
  escrows: EscrowRecord[],
  held: HeldChangeRecord[],
  isDue: (escrow: EscrowRecord) => boolean,
  select: string[],
): Promise<SourceCandidate[]> {
  const entitlementOf = (id: string) =>
    objectType === "User" ? entitlements.user(id) : entitlements.group(id);
  const linkOf = (id: string) => links.get(linkKey(objectType, id)) ?? null;
  const candidates = new Map<string, SourceCandidate>();
  for (const object of imported.objects.values()) {
    candidates.set(
      object.id,
      toCandidate(
        objectType,
        object,
        imported.incremental ? "delta" : "import",
        entitlementOf(object.id),
        linkOf(object.id),
      ),
    );
  }
  const fetch = async (
    id: string,
    origin: SourceCandidate["origin"],
    removedIfMissing?: "changed" | "deleted",
  ) => {
    if (candidates.has(id)) return;
    try {
      const object = await graphOrQuarantine(() =>
        objectType === "User" ? context.graph.getUser(id, select) : context.graph.getGroup(id, select),
      );
      candidates.set(id, toCandidate(objectType, object, origin, entitlementOf(id), linkOf(id)));
    } catch (error) {
      if (!(error instanceof GraphError && error.status === 404)) throw error;
      // Gone from the directory (deleted items are not readable by id): a linked object is deprovisioned.
      if (linkOf(id) || removedIfMissing)
        candidates.set(
          id,
          toCandidate(
            objectType,
            { id, "@removed": { reason: removedIfMissing ?? "changed" } },
            origin,
            NO_ENTITLEMENT,
            linkOf(id),
          ),
        );
    }
  };
  const blocked = new Set<string>();
  for (const escrow of escrows) {
    if (escrow.objectType !== objectType || escrow.kind !== "object") continue;
    if (isDue(escrow)) await fetch(escrow.sourceId, "escrow");
    else blocked.add(escrow.sourceId);
  }
  for (const change of held) {
    if (change.objectType !== objectType) continue;
    await fetch(change.sourceId, "held", change.action === "Delete" ? "deleted" : "changed");
  }
  const entitled = objectType === "User" ? entitlements.entitledUserIds : entitlements.entitledGroupIds;
  if (imported.incremental && entitled) {
    for (const id of entitled) {
      const link = linkOf(id);
      if ((!link || link.exportedHash === null) && !blocked.has(id)) await fetch(id, "assignment");
    }
  }
  // Linked objects that lost their entitlement, or (initial cycle) are no longer in the directory at all.
  for (const link of links.values()) {
    if (link.objectType !== objectType || candidates.has(link.sourceId)) continue;
    if (!link.active && link.exportedHash === null) continue;
    const stillEntitled = entitled ? entitled.has(link.sourceId) : true;
    if (stillEntitled && imported.incremental) continue;
    candidates.set(link.sourceId, {
      objectType,
      sourceId: link.sourceId,
      displayName: link.displayName,
      source: null,
      ...(stillEntitled ? { removed: "changed" as const } : {}),
      accountDisabled: false,
      entitlement: stillEntitled
        ? entitlementOf(link.sourceId)
        : { ...entitlementOf(link.sourceId), entitled: false },
      origin: "link",
    });
  }
  return [...candidates.values()];
}

/** Reads the Dialpad resource an evaluation needs: by its linked id, else by each matching attribute. */

async function membershipInput(
  context: CycleEngineContext,
  groups: Map<string, string | null>,
  entitlements: EntitlementIndex,
) {
  const input = [];
  for (const [sourceId, displayName] of groups) {
    let members = entitlements.membersOf.get(sourceId);
    if (!members) {
      members = [];
      try {
        for await (const page of context.graph.listGroupMembers(sourceId, ["id"])) {
          for (const member of page.value)
            if (
              String(member["@odata.type"] ?? "#microsoft.graph.user")
                .toLowerCase()
                .endsWith("user")
            )
              members.push(member.id);
        }
      } catch (error) {
        throw asQuarantine(error) ?? error;
      }
    }
    input.push({ sourceId, displayName, memberIds: members });
  }
  return input;
}
