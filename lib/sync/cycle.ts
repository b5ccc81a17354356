import { randomUUID } from "node:crypto";
import { GraphAuthError, GraphError, type GraphClient, type GraphGroup, type GraphUser } from "../graph";
import {
  describeScimError,
  eq,
  expectSingleMatch,
  isScimError,
  type ScimClient,
  type ScimPatchOperation,
} from "../scim";
import { indexAssignments, userEntitlement, type AssignmentIndex } from "./assignment";
import type { CycleLogEntry, CycleStore, EscrowRecord, HeldChangeRecord } from "./cycle-ports";
import type { ModifiedProperty, ProvisioningStep } from "./on-demand-types";
import {
  evaluateCandidate,
  exceedsDeletionThreshold,
  isDeletion,
  planMemberships,
  planObject,
  summarizePlan,
  type CyclePlanSummary,
  type CycleType,
  type Entitlement,
  type Evaluation,
  type LookupRequest,
  type MembershipGroup,
  type ObjectType,
  type PlannedMembership,
  type PlannedOperation,
  type SourceCandidate,
  type TargetLookup,
} from "./plan";
import type { ObjectLinkRecord, ObjectMappingEngine } from "./ports";
import { restrictMembershipsToApproved, restrictToApproved } from "./preview";
import { graphGroupSelectFor, graphSelectFor, toEntraGroup, toEntraUser } from "./source";

/**
 * One provisioning cycle, phase by phase as Entra runs it: import → scope → match → plan → execute →
 * references → new watermark. Everything goes through ports (Graph, SCIM, CycleStore), so the phases can
 * later run as separate cycle units on different workers.
 */

export interface ObjectSettings {
  enabled: boolean;
  engine: ObjectMappingEngine;
  actions: { create: boolean; update: boolean; delete: boolean };
}

export interface CycleEngineContext {
  graph: GraphClient;
  scim: ScimClient;
  store: CycleStore;
  users: ObjectSettings;
  /** The group engine must leave references out (members are the references phase's job). */
  groups: ObjectSettings & { provisionMembers: boolean };
  scope: "AssignedOnly" | "All";
  servicePrincipalId: string | null;
  cycleType: CycleType;
  dryRun: boolean;
  watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null };
  deletion: { preventAccidentalDeletes: boolean; deletionThreshold: number };
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

export interface CycleCounts {
  countImported: number;
  countImportedDeltas: number;
  countEntitled: number;
  countExported: number;
  countEscrowed: number;
  created: number;
  updated: number;
  disabled: number;
  deleted: number;
  skipped: number;
  failed: number;
  held: number;
  membersAdded: number;
  membersRemoved: number;
  referenceFailures: number;
}

export interface CycleOutcome {
  cycleType: CycleType;
  counts: CycleCounts;
  planned: CyclePlanSummary;
  plan: PlannedOperation[];
  memberships: PlannedMembership[];
  held: PlannedOperation[];
  /** The next watermark; null when it must not move (dry run, stopped). */
  watermark: { usersDeltaLink: string | null; groupsDeltaLink: string | null } | null;
  stopped: boolean;
  /** Set when the user operations went to cycle units: what the finalizer still has to run. */
  deferred?: DeferredReferences;
}

/** What a fanned-out cycle's finalizer runs after its units: groups, then their members (references). */
export interface DeferredReferences {
  units: number;
  groupOperations: PlannedOperation[];
  /** Groups whose members are provisioned, with their direct user members; null: members are not provisioned. */
  membershipGroups: MembershipGroup[] | null;
  provisionedUsers: string[];
}

/** The credentials or the target are unusable: Entra quarantines at once ("EncounteredQuarantineException"). */
export class QuarantineException extends Error {
  readonly reason = "EncounteredQuarantineException";
  constructor(
    message: string,
    readonly system: "Dialpad" | "Microsoft Entra ID",
    readonly errorCode: string,
  ) {
    super(message);
    this.name = "QuarantineException";
  }
}

const NO_ENTITLEMENT: Entitlement = {
  entitled: false,
  via: [],
  explanation: "The object is not assigned to the Dialpad application",
  defaultAccessOnly: false,
};

export function emptyCounts(): CycleCounts {
  return {
    countImported: 0,
    countImportedDeltas: 0,
    countEntitled: 0,
    countExported: 0,
    countEscrowed: 0,
    created: 0,
    updated: 0,
    disabled: 0,
    deleted: 0,
    skipped: 0,
    failed: 0,
    held: 0,
    membersAdded: 0,
    membersRemoved: 0,
    referenceFailures: 0,
  };
}

const linkKey = (objectType: ObjectType, sourceId: string) => `${objectType}:${sourceId}`;

/** Target reads a planner keeps in flight at once. */
const LOOKUP_CONCURRENCY = 32;
/** Objects a cycle unit provisions at once. */
const UNIT_CONCURRENCY = 4;

/**
 * How often a unit asks whether Stop was requested. Asking before every object cost a database round
 * trip per object, as much as the object's own link write; a fifth of a second is still well inside
 * what an admin perceives as "stopped after the current object".
 */
const STOP_CHECK_INTERVAL_MS = 200;

/** Runs `work` over `items` with at most `limit` in flight; results keep the items' order. */
async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        // A quarantine condition: the other lanes start nothing more.
        next = items.length;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** 401/403 from Dialpad or any Graph authentication failure stops the cycle and quarantines the job. */
function asQuarantine(error: unknown): QuarantineException | null {
  if (error instanceof QuarantineException) return error;
  if (isScimError(error) && (error.status === 401 || error.status === 403)) {
    const described = describeScimError(error);
    return new QuarantineException(
      `${described.reason} ${described.recommendedAction}`,
      "Dialpad",
      described.errorCode,
    );
  }
  if (error instanceof GraphAuthError)
    return new QuarantineException(error.message, "Microsoft Entra ID", error.code);
  if (error instanceof GraphError && (error.status === 401 || error.status === 403))
    return new QuarantineException(error.message, "Microsoft Entra ID", error.code);
  return null;
}

async function graphOrQuarantine<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asQuarantine(error) ?? error;
  }
}

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
    const evaluations = candidates.map((candidate) =>
      evaluateCandidate(
        candidate,
        links.get(linkKey(objectType, candidate.sourceId)) ?? null,
        settings.engine,
      ),
    );
    const operations: { evaluation: Evaluation; operation: PlannedOperation }[] = [];
    for (let offset = 0; offset < evaluations.length; offset += unitSize) {
      const chunk = evaluations.slice(offset, offset + unitSize);
      // The lookups are independent reads, so a few run at once: one at a time, an initial cycle of
      // 100,000 users spends most of its planning waiting on the target's latency. The request limiter
      // still paces them.
      const lookups = await mapWithConcurrency(chunk, LOOKUP_CONCURRENCY, (evaluation) =>
        evaluation.lookup ? resolveTarget(scim, objectType, evaluation.lookup) : Promise.resolve(null),
      );
      for (const [index, evaluation] of chunk.entries()) {
        if (evaluation.inScope) counts.countEntitled += 1;
        operations.push({
          evaluation,
          operation: planObject(evaluation, lookups[index] ?? null, {
            objectType,
            engine: settings.engine,
            actions: settings.actions,
            cycleType,
            now: now().toISOString(),
          }),
        });
      }
      if (chunk.length === unitSize) await unitDone(1);
    }
    return operations;
  };
  const userPlan = await planFor(userCandidates, context.users, "User");
  const groupPlan = await planFor(groupCandidates, context.groups, "Group");
  let plan = [...userPlan, ...groupPlan].map((entry) => entry.operation);
  // Not applied (not in the approved preview): such a user keeps the membership state of its link.
  const notApproved = new Set<string>();
  if (context.approved) {
    const restricted = restrictToApproved(plan, context.approved.operations);
    plan = restricted.plan;
    for (const operation of restricted.notApproved)
      notApproved.add(linkKey(operation.objectType, operation.sourceId));
  }

  // ── Accidental deletions prevention ─────────────────────────────────────────────────────────────
  const holding = exceedsDeletionThreshold(plan, context.deletion);
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
      errorReason: `${operation.reason}. The ${operation.kind === "delete" ? "deletion" : "disable"} was held because this cycle would disable or delete ${heldOperations.length} objects, more than the accidental deletion threshold of ${context.deletion.deletionThreshold}.`,
      recommendedAction:
        "If these removals are intended, select Allow deletes; otherwise fix the assignments or scoping, then restart provisioning.",
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
    watermark: stopped
      ? null
      : { usersDeltaLink: userImport.deltaLink, groupsDeltaLink: groupImport.deltaLink },
    stopped,
  };
}

async function loadEntitlements(context: CycleEngineContext): Promise<EntitlementIndex> {
  const membersOf = new Map<string, string[]>();
  if (context.scope === "All") {
    const all: Entitlement = { entitled: true, via: ["sync all"], explanation: "", defaultAccessOnly: false };
    return { user: () => all, group: () => all, entitledUserIds: null, entitledGroupIds: null, membersOf };
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
    user(id) {
      const groups = userGroups.get(id) ?? [];
      const result = userEntitlement(id, index, groups);
      const entitled = result.assigned && result.hasRequiredRole;
      const defaultAccessOnly =
        !entitled &&
        (index.defaultAccessUsers.has(id) || groups.some((group) => index.defaultAccessGroups.has(group)));
      return {
        entitled,
        via: result.via,
        defaultAccessOnly,
        explanation: defaultAccessOnly
          ? "The user is assigned with Default Access only, which is excluded from provisioning"
          : "The user is not assigned to the Dialpad application",
      };
    },
    group(id) {
      if (index.groupRoles.has(id))
        return { entitled: true, via: ["direct"], explanation: "", defaultAccessOnly: false };
      const defaultAccessOnly = index.defaultAccessGroups.has(id);
      return {
        entitled: false,
        via: [],
        defaultAccessOnly,
        explanation: defaultAccessOnly
          ? "The group is assigned with Default Access only, which is excluded from provisioning"
          : "The group is not assigned to the Dialpad application",
      };
    },
    entitledUserIds,
    entitledGroupIds: new Set(index.groupRoles.keys()),
    membersOf,
  };
}

function toCandidate(
  objectType: ObjectType,
  object: GraphUser | GraphGroup,
  origin: SourceCandidate["origin"],
  entitlement: Entitlement,
  link: ObjectLinkRecord | null,
): SourceCandidate {
  const removedReason = object["@removed"]?.reason;
  if (object["@removed"]) {
    return {
      objectType,
      sourceId: object.id,
      displayName: link?.displayName ?? null,
      source: null,
      removed: removedReason === "deleted" ? "deleted" : "changed",
      accountDisabled: false,
      entitlement,
      origin,
    };
  }
  const displayName = (object.displayName as string | null | undefined) ?? null;
  if (objectType === "Group") {
    return {
      objectType,
      sourceId: object.id,
      displayName,
      source: toEntraGroup(object),
      accountDisabled: false,
      entitlement,
      origin,
    };
  }
  const user = object as GraphUser;
  const accountDisabled = user.accountEnabled === false;
  return {
    objectType,
    sourceId: user.id,
    displayName: displayName ?? user.userPrincipalName ?? null,
    source: toEntraUser(user, { isSoftDeleted: accountDisabled || !entitlement.entitled }),
    accountDisabled,
    entitlement,
    origin,
  };
}

/**
 * The objects a cycle looks at. Initial: everything Graph returned. Incremental: the delta, plus what a
 * delta cannot show: assignment changes (newly entitled objects without a link, linked objects that lost
 * their assignment), escrows that are due, and deletions held by the threshold.
 */
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
async function resolveTarget(
  scim: ScimClient,
  objectType: ObjectType,
  lookup: LookupRequest,
): Promise<TargetLookup> {
  try {
    let linkedGone = false;
    if (lookup.by === "id") {
      try {
        const resource =
          objectType === "User"
            ? await scim.getUser(lookup.targetId)
            : await scim.getGroup(lookup.targetId, { excludeMembers: true });
        return { status: "found", resource, matchedBy: `linked id ${lookup.targetId}` };
      } catch (error) {
        if (!(isScimError(error) && error.status === 404)) throw error;
        linkedGone = true;
      }
    }
    for (const candidate of lookup.matching) {
      const filter = eq(candidate.targetAttribute, candidate.value);
      const found: readonly (Record<string, unknown> & { id: string })[] =
        objectType === "User"
          ? await scim.findUsers(filter)
          : await scim.findGroups(filter, { excludeMembers: true });
      const single = expectSingleMatch(found);
      if (single) {
        return {
          status: "found",
          resource: single,
          matchedBy: `${candidate.targetAttribute} eq "${candidate.value}"`,
          relinked: linkedGone,
        };
      }
    }
    return {
      status: "absent",
      tried: lookup.matching.map((candidate) => `${candidate.targetAttribute} = ${candidate.value}`),
      linkedGone,
    };
  } catch (error) {
    const quarantine = asQuarantine(error);
    if (quarantine) throw quarantine;
    const described = describeScimError(error);
    return {
      status: "failed",
      error: {
        errorCode: described.errorCode,
        errorCategory: described.errorCategory,
        reason: described.reason,
        recommendedAction: described.recommendedAction,
      },
    };
  }
}

function logBase(operation: PlannedOperation): Omit<CycleLogEntry, "action" | "status" | "durationMs"> {
  return {
    changeId: randomUUID(),
    objectType: operation.objectType,
    sourceId: operation.sourceId,
    sourceDisplayName: operation.displayName,
    targetId: operation.targetId,
    targetDisplayName: operation.targetId ? operation.displayName : null,
    modifiedProperties: operation.modifiedProperties,
    steps: operation.steps,
  };
}

const EXPORT_STEP: Record<string, string> = {
  create: "EntryExportAdd",
  update: "EntryExportUpdate",
  disable: "EntryExportUpdateSoftDelete",
  delete: "EntryExportDelete",
};

interface ExecutionPorts {
  scim: ScimClient;
  store: CycleStore;
}

async function executeOperation(
  context: ExecutionPorts,
  operation: PlannedOperation,
  links: Map<string, ObjectLinkRecord>,
  counts: CycleCounts,
): Promise<CycleLogEntry | null> {
  const { scim, store } = context;
  const started = Date.now();
  const stamp = () => new Date().toISOString();
  const saveLink = async (targetId: string) => {
    const after = operation.link!;
    const record: ObjectLinkRecord = {
      objectType: operation.objectType,
      sourceId: operation.sourceId,
      targetId,
      displayName: operation.displayName,
      exportedHash: after.exportedHash,
      active: after.active,
    };
    await store.saveLink(record);
    links.set(linkKey(operation.objectType, operation.sourceId), record);
  };

  if (operation.kind === "skip") {
    if (operation.link && (operation.link.targetId ?? operation.targetId)) {
      await saveLink((operation.link.targetId ?? operation.targetId)!);
      await store.clearEscrow(operation.objectType, operation.sourceId, "object");
    }
    counts.skipped += 1;
    if (!operation.log) return null;
    return {
      ...logBase(operation),
      action: "Other",
      status: "Skipped",
      steps: [
        ...operation.steps,
        {
          name: "EntrySynchronizationSkip",
          type: "Export",
          status: "skipped",
          description: operation.reason,
          details: {},
          timestamp: stamp(),
        },
      ],
      errorCode: operation.statusInfo?.errorCode,
      errorCategory: operation.statusInfo?.errorCategory,
      errorReason: operation.statusInfo?.reason ?? operation.reason,
      recommendedAction: operation.statusInfo?.recommendedAction,
      durationMs: Date.now() - started,
    };
  }

  const fail = async (
    info: { errorCode?: string; errorCategory?: string; reason?: string; recommendedAction?: string },
    request?: string,
  ) => {
    const attempts = await store.escrow({
      objectType: operation.objectType,
      sourceId: operation.sourceId,
      kind: "object",
      errorCode: info.errorCode ?? "InternalError",
      error: info.reason ?? operation.reason,
    });
    counts.failed += 1;
    counts.countEscrowed += 1;
    const step: ProvisioningStep = {
      name: EXPORT_STEP[operation.kind] ?? "EntryExport",
      type: "Export",
      status: "failure",
      description: request ? `The request to Dialpad failed (${request})` : operation.reason,
      details: { errorCode: info.errorCode ?? "InternalError", attempts },
      timestamp: stamp(),
    };
    return {
      ...logBase(operation),
      action: operation.action,
      status: "Failure" as const,
      steps: [...operation.steps, step],
      errorCode: info.errorCode,
      errorCategory: info.errorCategory,
      errorReason: info.reason,
      recommendedAction: info.recommendedAction,
      durationMs: Date.now() - started,
    };
  };

  if (operation.kind === "fail") return fail(operation.statusInfo ?? {});

  let targetId = operation.targetId;
  try {
    const users = operation.objectType === "User";
    switch (operation.kind) {
      case "create": {
        const created = users
          ? await scim.createUser(operation.resource!)
          : await scim.createGroup(operation.resource!);
        targetId = created.id;
        await saveLink(created.id);
        counts.created += 1;
        break;
      }
      case "update":
      case "disable": {
        const operations = operation.operations as ScimPatchOperation[];
        if (users) await scim.patchUser(targetId!, operations);
        else await scim.patchGroup(targetId!, operations);
        await saveLink(targetId!);
        counts[operation.kind === "update" ? "updated" : "disabled"] += 1;
        break;
      }
      case "delete": {
        try {
          if (users) await scim.deleteUser(targetId!);
          else await scim.deleteGroup(targetId!);
        } catch (error) {
          // Already gone from Dialpad is what a delete wants.
          if (!(isScimError(error) && error.status === 404)) throw error;
        }
        await store.removeLink(operation.objectType, operation.sourceId);
        await store.removeMembershipsOf(operation.objectType, operation.sourceId);
        links.delete(linkKey(operation.objectType, operation.sourceId));
        counts.deleted += 1;
        break;
      }
    }
  } catch (error) {
    const quarantine = asQuarantine(error);
    if (quarantine) throw quarantine;
    const described = describeScimError(error);
    return fail(
      {
        errorCode: described.errorCode,
        errorCategory: described.errorCategory,
        reason: described.reason,
        recommendedAction: described.recommendedAction,
      },
      isScimError(error) ? `${error.request.method} ${error.request.url}` : undefined,
    );
  }
  counts.countExported += 1;
  await store.clearEscrow(operation.objectType, operation.sourceId, "object");
  return {
    ...logBase(operation),
    targetId,
    targetDisplayName: operation.displayName,
    action: operation.action,
    status: "Success",
    steps: [
      ...operation.steps,
      {
        name: EXPORT_STEP[operation.kind] ?? "EntryExport",
        type: "Export",
        status: "success",
        description: `${operation.reason}: ${operation.action.toLowerCase()} in Dialpad${targetId ? ` (id ${targetId})` : ""}`,
        details: Object.fromEntries(
          operation.modifiedProperties.map((property) => [property.displayName, property.newValue]),
        ),
        timestamp: stamp(),
      },
    ],
    durationMs: Date.now() - started,
  };
}

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

function groupedMemberships(
  rows: { groupSourceId: string; userSourceId: string }[],
): Map<string, Set<string>> {
  const grouped = new Map<string, Set<string>>();
  for (const row of rows) {
    const set = grouped.get(row.groupSourceId) ?? new Set<string>();
    set.add(row.userSourceId);
    grouped.set(row.groupSourceId, set);
  }
  return grouped;
}

const MEMBERS_PER_PATCH = 100;

/** Adds and removes one group's members with PATCH; members whose user is not in Dialpad are escrowed as references. */
async function executeMembership(
  context: ExecutionPorts,
  membership: PlannedMembership,
  links: Map<string, ObjectLinkRecord>,
  counts: CycleCounts,
  existing: CycleLogEntry | undefined,
): Promise<CycleLogEntry | null> {
  const { scim, store } = context;
  const started = Date.now();
  const group = links.get(linkKey("Group", membership.groupSourceId));
  // The group itself failed (and is escrowed as an object); its members wait for it.
  if (!group) return existing ?? null;
  const resolve = (userId: string) => {
    const link = links.get(linkKey("User", userId));
    return link ? { userSourceId: userId, userTargetId: link.targetId } : null;
  };
  const adds = membership.add.map((id) => ({ id, resolved: resolve(id) }));
  const unresolved = adds.filter((add) => !add.resolved).map((add) => add.id);
  const toAdd = adds.flatMap((add) => (add.resolved ? [add.resolved] : []));
  const removals = membership.remove.map((id) => ({ id, resolved: resolve(id) }));
  const toRemove = removals.flatMap((removal) => (removal.resolved ? [removal.resolved] : []));
  // A removed member with no Dialpad account any more needs no request, only forgetting.
  const forget = removals.filter((removal) => !removal.resolved).map((removal) => removal.id);
  if (forget.length) await store.removeMemberships(membership.groupSourceId, forget);

  const modified: ModifiedProperty[] = [];
  let failure: ReturnType<typeof describeScimError> | null = null;
  try {
    for (let offset = 0; offset < toAdd.length; offset += MEMBERS_PER_PATCH) {
      const chunk = toAdd.slice(offset, offset + MEMBERS_PER_PATCH);
      await scim.patchGroup(group.targetId, [
        {
          op: "Add",
          path: "members",
          value: chunk.map((member) => ({ $ref: null, value: member.userTargetId })),
        },
      ]);
      await store.addMemberships(membership.groupSourceId, chunk);
      counts.membersAdded += chunk.length;
      counts.countExported += 1;
    }
    for (let offset = 0; offset < toRemove.length; offset += MEMBERS_PER_PATCH) {
      const chunk = toRemove.slice(offset, offset + MEMBERS_PER_PATCH);
      await scim.patchGroup(group.targetId, [
        {
          op: "Remove",
          path: "members",
          value: chunk.map((member) => ({ $ref: null, value: member.userTargetId })),
        },
      ]);
      await store.removeMemberships(
        membership.groupSourceId,
        chunk.map((member) => member.userSourceId),
      );
      counts.membersRemoved += chunk.length;
      counts.countExported += 1;
    }
  } catch (error) {
    const quarantine = asQuarantine(error);
    if (quarantine) throw quarantine;
    failure = describeScimError(error);
  }
  if (toAdd.length)
    modified.push({
      displayName: "members (added)",
      oldValue: null,
      newValue: toAdd.map((member) => member.userTargetId).join(", "),
    });
  if (toRemove.length)
    modified.push({
      displayName: "members (removed)",
      oldValue: toRemove.map((member) => member.userTargetId).join(", "),
      newValue: null,
    });

  const referenceProblem = failure
    ? {
        errorCode: failure.errorCode,
        reason: failure.reason,
        recommendedAction: failure.recommendedAction,
        errorCategory: failure.errorCategory as string,
      }
    : unresolved.length
      ? {
          errorCode: "UnresolvedReference",
          errorCategory: "nonServiceFailure",
          reason: `${unresolved.length} member(s) have no Dialpad account yet (${unresolved.slice(0, 5).join(", ")}${unresolved.length > 5 ? ", …" : ""}); they are added once their users are provisioned.`,
          recommendedAction:
            "Check the failures of those users in the provisioning logs; the members are retried automatically.",
        }
      : null;
  if (referenceProblem) {
    await store.escrow({
      objectType: "Group",
      sourceId: membership.groupSourceId,
      kind: "reference",
      errorCode: referenceProblem.errorCode,
      error: referenceProblem.reason,
    });
    counts.referenceFailures += 1;
    counts.countEscrowed += 1;
  } else {
    await store.clearEscrow("Group", membership.groupSourceId, "reference");
  }
  if (!modified.length && !referenceProblem) return existing ?? null;

  const step: ProvisioningStep = {
    name: "EntryReferenceResolution",
    type: "ReferenceResolution",
    status: failure ? "failure" : unresolved.length ? "warning" : "success",
    description: `Members: ${toAdd.length} added, ${toRemove.length} removed${unresolved.length ? `, ${unresolved.length} waiting for their users` : ""}`,
    details: {},
    timestamp: new Date().toISOString(),
  };
  const base: CycleLogEntry = existing ?? {
    changeId: randomUUID(),
    action: "Update",
    status: "Success",
    objectType: "Group",
    sourceId: membership.groupSourceId,
    sourceDisplayName: membership.displayName ?? group.displayName,
    targetId: group.targetId,
    targetDisplayName: membership.displayName ?? group.displayName,
    modifiedProperties: [],
    steps: [],
    durationMs: 0,
  };
  // A group skipped as unchanged whose members changed is an update of the group.
  const action = base.action === "Other" ? "Update" : base.action;
  const status = failure
    ? "Failure"
    : referenceProblem
      ? "Warning"
      : base.status === "Skipped"
        ? "Success"
        : base.status;
  return {
    ...base,
    action,
    status,
    modifiedProperties: [...base.modifiedProperties, ...modified],
    steps: [...base.steps, step],
    ...(referenceProblem && base.status !== "Failure"
      ? {
          errorCode: referenceProblem.errorCode,
          errorCategory: referenceProblem.errorCategory,
          errorReason: referenceProblem.reason,
          recommendedAction: referenceProblem.recommendedAction,
        }
      : base.status === "Skipped" && !referenceProblem
        ? {
            errorCode: undefined,
            errorCategory: undefined,
            errorReason: undefined,
            recommendedAction: undefined,
          }
        : {}),
    durationMs: base.durationMs + (Date.now() - started),
  };
}

/**
 * "Allow deletes": runs the disables and deletes that accidental-deletions prevention held, exactly as
 * the cycle would have. Returns the log entries (the caller stamps them) and the counts.
 */
export async function executeHeldChanges(
  ports: ExecutionPorts,
  held: readonly HeldChangeRecord[],
): Promise<{ counts: CycleCounts; logs: CycleLogEntry[] }> {
  const counts = emptyCounts();
  const logs: CycleLogEntry[] = [];
  const links = new Map<string, ObjectLinkRecord>();
  const now = new Date().toISOString();
  for (const change of held) {
    const noun = change.objectType === "User" ? "user" : "group";
    const disable = change.action === "Disable";
    const operation: PlannedOperation = {
      kind: disable ? "disable" : "delete",
      action: change.action,
      objectType: change.objectType,
      sourceId: change.sourceId,
      displayName: change.displayName,
      targetId: change.targetId,
      reason: `Held by accidental-deletions prevention and allowed by an administrator`,
      ...(disable ? { operations: [{ op: "Replace" as const, path: "active", value: false }] } : {}),
      modifiedProperties: disable ? [{ displayName: "active", oldValue: true, newValue: false }] : [],
      link: disable ? { targetId: change.targetId, exportedHash: null, active: false } : null,
      log: true,
      steps: [
        {
          name: "EntryStagedDeleteAllowed",
          type: "Processing",
          status: "success",
          description: `The held ${disable ? "disable" : "deletion"} of this ${noun} was allowed`,
          details: {},
          timestamp: now,
        },
      ],
    };
    const entry = await executeOperation(ports, operation, links, counts);
    if (entry) logs.push(entry);
  }
  return { counts, logs };
}

export function addCounts(total: CycleCounts, more: Partial<CycleCounts>): CycleCounts {
  const sum = { ...total };
  for (const key of Object.keys(sum) as (keyof CycleCounts)[]) sum[key] += Number(more[key] ?? 0);
  return sum;
}

/**
 * One cycle unit: a page of planned user operations, run in order. Stops before the next object once
 * `store.stopRequested()` says so (asked at most every STOP_CHECK_INTERVAL_MS); the log entries of whatever ran are written even when it throws.
 */
export async function executeUnit(
  ports: ExecutionPorts,
  operations: readonly PlannedOperation[],
): Promise<{ counts: CycleCounts; executed: number; stopped: boolean }> {
  const counts = emptyCounts();
  const links = new Map<string, ObjectLinkRecord>();
  const logs: CycleLogEntry[] = [];
  let executed = 0;
  let stopped = false;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let stopCheck: Promise<boolean> | null = null;
  const shouldStop = async () => {
    if (stopped) return true;
    if (performance.now() - checkedAt >= STOP_CHECK_INTERVAL_MS) {
      checkedAt = performance.now();
      // One question at a time, whichever lane asks: the others wait for its answer.
      stopCheck ??= ports.store.stopRequested().finally(() => (stopCheck = null));
    }
    if (stopCheck && (await stopCheck)) stopped = true;
    return stopped;
  };
  try {
    // The objects of a unit are independent: a few run at once, so a unit waits on Dialpad's latency
    // for several objects together instead of one after another. The request limiter still paces them.
    await mapWithConcurrency(operations, UNIT_CONCURRENCY, async (operation) => {
      if (await shouldStop()) return;
      const entry = await executeOperation(ports, operation, links, counts);
      executed += 1;
      if (entry) logs.push(entry);
    });
  } finally {
    await ports.store.writeLogs(logs);
  }
  return { counts, executed, stopped };
}

/**
 * The tail of a fanned-out cycle, run by its finalizer once every unit ended: the group operations,
 * then the members of the groups (planned against the links the units saved).
 */
export async function executeDeferredReferences(
  ports: ExecutionPorts,
  deferred: DeferredReferences,
): Promise<{ counts: CycleCounts; memberships: PlannedMembership[] }> {
  const { store } = ports;
  const counts = emptyCounts();
  const links = new Map<string, ObjectLinkRecord>();
  for (const link of await store.loadLinks()) links.set(linkKey(link.objectType, link.sourceId), link);
  const groupLogs = new Map<string, CycleLogEntry>();
  let memberships: PlannedMembership[] = [];
  try {
    for (const operation of deferred.groupOperations) {
      const entry = await executeOperation(ports, operation, links, counts);
      if (entry) groupLogs.set(operation.sourceId, entry);
    }
    if (deferred.membershipGroups) {
      memberships = planMemberships({
        groups: deferred.membershipGroups,
        exported: groupedMemberships(await store.loadMemberships()),
        provisionedUsers: new Set(deferred.provisionedUsers),
      });
      for (const membership of memberships) {
        const entry = await executeMembership(
          ports,
          membership,
          links,
          counts,
          groupLogs.get(membership.groupSourceId),
        );
        if (entry) groupLogs.set(membership.groupSourceId, entry);
      }
    }
  } finally {
    await store.writeLogs([...groupLogs.values()]);
  }
  return { counts, memberships };
}
