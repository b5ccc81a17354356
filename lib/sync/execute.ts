import { randomUUID } from "node:crypto";
import { describeScimError, isScimError, type ScimClient, type ScimPatchOperation } from "../scim";
import type { CycleLogEntry, CycleStore, HeldChangeRecord } from "./cycle-ports";
import type { ModifiedProperty, ProvisioningStep } from "./on-demand-types";
import {
  planMemberships,
  type MembershipGroup,
  type ObjectType,
  type PlannedMembership,
  type PlannedOperation,
} from "./plan";
import type { ObjectLinkRecord } from "./ports";
import { mapWithConcurrency } from "./concurrency";
import { asQuarantine } from "./decide";
import { createIsolatingRefusals, patchIsolatingRefusals, type RefusedInChange } from "./refusal-export";
import { refusalAdvice, type RefusalRegistry } from "./refusals";

/*
 * Executing planned operations against Dialpad: one object (create, update, disable, delete, skip or
 * fail, with its link, escrow and provisioning-log entry), a unit of them, held deletions, and group
 * memberships. The same execution serves cycles, "Allow deletes" and on-demand provisioning.
 */

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

/**
 * A slice of a fanned-out cycle's groups, run together by its finalizer once every user unit ended: the
 * groups' operations, then their member lists. Members are already narrowed to the users this
 * connection provisions, so a slice needs nothing from the rest of the cycle.
 */
export interface GroupWork {
  operations: PlannedOperation[];
  /** The slice's groups whose members are provisioned; null: members are not provisioned. */
  members: MembershipGroup[] | null;
}

export interface DeferredReferences {
  units: number;
  groupWork: GroupWork[];
}

/**
 * Groups per slice of GroupWork. A group's operation carries its log steps and its member ids: 100 groups
 * of about 100 members made 4.5 MB slices (one statement each, which Prisma's query engine grows its
 * memory for); 25 keep a slice near a megabyte.
 */
export const GROUPS_PER_WORK_SLICE = 25;

/**
 * Cuts the planner's group operations and member lists into slices of GROUPS_PER_WORK_SLICE groups, a
 * group's operation and members in the same slice (its member PATCHes need its link, and its log entry
 * tells both).
 */
export function sliceGroupWork(input: {
  groupOperations: readonly PlannedOperation[];
  membershipGroups: readonly MembershipGroup[] | null;
  provisionedUsers: ReadonlySet<string>;
}): GroupWork[] {
  const byGroup = new Map<string, { operation?: PlannedOperation; members?: MembershipGroup }>();
  for (const operation of input.groupOperations)
    byGroup.set(operation.sourceId, { ...byGroup.get(operation.sourceId), operation });
  for (const group of input.membershipGroups ?? []) {
    const members = { ...group, memberIds: group.memberIds.filter((id) => input.provisionedUsers.has(id)) };
    byGroup.set(group.sourceId, { ...byGroup.get(group.sourceId), members });
  }
  const slices: GroupWork[] = [];
  let slice: GroupWork | null = null;
  let groups = 0;
  for (const entry of byGroup.values()) {
    if (!slice || groups === GROUPS_PER_WORK_SLICE) {
      slice = { operations: [], members: input.membershipGroups ? [] : null };
      slices.push(slice);
      groups = 0;
    }
    groups += 1;
    if (entry.operation) slice.operations.push(entry.operation);
    if (entry.members) slice.members?.push(entry.members);
  }
  return slices;
}

/** The credentials or the target are unusable: Entra quarantines at once ("EncounteredQuarantineException"). */

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

export const linkKey = (objectType: ObjectType, sourceId: string) => `${objectType}:${sourceId}`;

/** Objects a cycle unit provisions at once. */
const UNIT_CONCURRENCY = 4;

/**
 * How often a unit asks whether Stop was requested. Asking before every object cost a database round
 * trip per object, as much as the object's own link write; a fifth of a second is still well inside
 * what an admin perceives as "stopped after the current object".
 */
const STOP_CHECK_INTERVAL_MS = 200;

export function logBase(
  operation: PlannedOperation,
): Omit<CycleLogEntry, "action" | "status" | "durationMs"> {
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

/** The export step says what was done, in the past tense, as Entra's on-demand view does. */
const DONE: Record<string, string> = {
  create: "Created",
  update: "Updated",
  disable: "Disabled",
  delete: "Deleted",
};

/** A disable or delete also says why (the earlier steps do not); a create or update does. */
function doneDescription(operation: PlannedOperation, targetId: string | null): string {
  const noun = operation.objectType === "User" ? "user" : "group";
  const done = `${DONE[operation.kind] ?? operation.action} the ${noun} in Dialpad${targetId ? ` (id ${targetId})` : ""}`;
  if (operation.kind !== "disable" && operation.kind !== "delete") return done;
  return `${done}: ${operation.reason.charAt(0).toLowerCase()}${operation.reason.slice(1)}`;
}

export interface ExecutionPorts {
  scim: ScimClient;
  store: CycleStore;
  /**
   * False once this attempt must not send anything more to Dialpad (it may have lost its job's lease, or
   * it is asked to stop): a request to Dialpad cannot be fenced like a database write.
   */
  mayWrite?: () => boolean;
  /** Attributes Dialpad refuses: left out of changes and learnt from 400s (none: every error fails the change). */
  refusals?: RefusalRegistry;
}

/** Log entries a unit keeps unwritten at most: a unit interrupted hard loses at most these. */
const LOG_FLUSH_EVERY = 20;

export async function executeOperation(
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
    } else if (operation.link === null) {
      // The linked resource is gone from Dialpad: forget it, so the link store matches the target.
      await store.removeLink(operation.objectType, operation.sourceId);
      await store.removeMembershipsOf(operation.objectType, operation.sourceId);
      links.delete(linkKey(operation.objectType, operation.sourceId));
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
  let refusedInChange: RefusedInChange = { refused: [], leftOut: [] };
  try {
    const users = operation.objectType === "User";
    switch (operation.kind) {
      case "create": {
        const { created, ...refusals } = await createIsolatingRefusals(
          scim,
          operation,
          operation.resource!,
          operation.modifiedProperties.map((property) => property.displayName),
          context.refusals,
        );
        refusedInChange = refusals;
        targetId = created.id;
        await saveLink(created.id);
        counts.created += 1;
        break;
      }
      case "update":
      case "disable": {
        refusedInChange = await patchIsolatingRefusals(
          scim,
          { ...operation, targetId: targetId! },
          operation.operations as ScimPatchOperation[],
          context.refusals,
        );
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
  const notSent = refusalNotice(refusedInChange);
  return {
    ...logBase(operation),
    targetId,
    targetDisplayName: operation.displayName,
    action: operation.action,
    status: notSent ? "Warning" : "Success",
    steps: [
      ...operation.steps,
      {
        name: EXPORT_STEP[operation.kind] ?? "EntryExport",
        type: "Export",
        status: "success",
        description: doneDescription(operation, targetId),
        details: Object.fromEntries(
          operation.modifiedProperties.map((property) => [property.displayName, property.newValue]),
        ),
        timestamp: stamp(),
      },
      ...(notSent ? [{ ...notSent.step, timestamp: stamp() }] : []),
    ],
    ...(notSent ? notSent.status : {}),
    durationMs: Date.now() - started,
  };
}

/** The warning of a change that landed without some attributes, for its log entry. */
function refusalNotice(change: RefusedInChange) {
  const attributes = [...change.refused.map((refusal) => refusal.attribute), ...change.leftOut];
  if (!attributes.length) return null;
  const named = attributes.join(", ");
  const refusedNow = change.refused
    .map((refusal) => `${refusal.attribute} (${refusal.scimType ?? "HTTP 400"}: ${refusal.detail})`)
    .join("; ");
  const reason = [
    refusedNow && `Dialpad refused ${refusedNow}.`,
    change.leftOut.length && `Left out ${change.leftOut.join(", ")}, which Dialpad refused before.`,
    "The rest of the change was sent.",
  ]
    .filter(Boolean)
    .join(" ");
  return {
    step: {
      name: "EntryExportRefusedAttributes",
      type: "Export" as const,
      status: "warning" as const,
      description: `Dialpad refuses ${named}; the rest of the change was sent`,
      details: Object.fromEntries([
        ...change.refused.map((refusal) => [refusal.attribute, `${refusal.request} → ${refusal.detail}`]),
        ...change.leftOut.map((attribute) => [attribute, "left out (refused before)"]),
      ]),
    },
    status: {
      errorCode: "AttributeRefused",
      errorCategory: "nonServiceFailure",
      errorReason: reason,
      recommendedAction: refusalAdvice(attributes[0]!),
    },
  };
}

export function groupedMemberships(
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

export interface MembershipPatch<T extends { userTargetId: string }> {
  kind: "add" | "remove";
  members: T[];
  operations: ScimPatchOperation[];
}

/**
 * The PATCHes that add and then remove a group's members, at most 100 members each, in the order they are
 * sent: a cycle sends them, and the reconcile report's preview shows them before sending the same.
 */
export function membershipPatches<T extends { userTargetId: string }>(
  toAdd: readonly T[],
  toRemove: readonly T[],
): MembershipPatch<T>[] {
  const patches: MembershipPatch<T>[] = [];
  for (const [kind, members] of [
    ["add", toAdd],
    ["remove", toRemove],
  ] as const)
    for (let offset = 0; offset < members.length; offset += MEMBERS_PER_PATCH) {
      const chunk = members.slice(offset, offset + MEMBERS_PER_PATCH);
      patches.push({
        kind,
        members: chunk,
        operations: [
          {
            op: kind === "add" ? "Add" : "Remove",
            path: "members",
            value: chunk.map((member) => ({ $ref: null, value: member.userTargetId })),
          },
        ],
      });
    }
  return patches;
}

/** Adds and removes one group's members with PATCH; members whose user is not in Dialpad are escrowed as references. */
export async function executeMembership(
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
    for (const patch of membershipPatches(toAdd, toRemove)) {
      await scim.patchGroup(group.targetId, patch.operations);
      if (patch.kind === "add") {
        await store.addMemberships(membership.groupSourceId, patch.members);
        counts.membersAdded += patch.members.length;
      } else {
        await store.removeMemberships(
          membership.groupSourceId,
          patch.members.map((member) => member.userSourceId),
        );
        counts.membersRemoved += patch.members.length;
      }
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
  // Links are recorded with the log entries of their objects, a batch at a time, rather than in a
  // transaction per object (most of a unit's database time). A link lost with its batch (the worker
  // died) is found again: a re-run looks up an unrecorded create by userName and adopts it.
  const pendingLinks: ObjectLinkRecord[] = [];
  const buffered: ExecutionPorts = {
    ...ports,
    store: {
      ...ports.store,
      saveLink: async (link) => {
        pendingLinks.push(link);
      },
    },
  };
  const flush = () => ports.store.record({ links: pendingLinks.splice(0), logs: logs.splice(0) });
  try {
    // The objects of a unit are independent: a few run at once, so a unit waits on Dialpad's latency
    // for several objects together instead of one after another. The request limiter still paces them.
    await mapWithConcurrency(operations, UNIT_CONCURRENCY, async (operation) => {
      if (ports.mayWrite && !ports.mayWrite()) stopped = true;
      if (await shouldStop()) return;
      const entry = await executeOperation(buffered, operation, links, counts);
      executed += 1;
      if (entry) logs.push(entry);
      if (logs.length >= LOG_FLUSH_EVERY) await flush();
    });
  } finally {
    await flush();
  }
  return { counts, executed, stopped };
}

/**
 * One slice of a fanned-out cycle's groups, run by its finalizer once every user unit ended: the group
 * operations, then the members of the groups (planned against the links the units saved).
 */
export async function executeGroupWork(
  ports: ExecutionPorts,
  work: GroupWork,
): Promise<{ counts: CycleCounts; memberships: PlannedMembership[] }> {
  const { store } = ports;
  const counts = emptyCounts();
  const groupLogs = new Map<string, CycleLogEntry>();
  let memberships: PlannedMembership[] = [];
  try {
    // Groups are independent of one another, and so are their member lists: a few at a time, like a
    // unit's objects, so the finalizer waits on Dialpad's latency for several groups together.
    await mapWithConcurrency(work.operations, UNIT_CONCURRENCY, async (operation) => {
      const entry = await executeOperation(ports, operation, new Map(), counts);
      if (entry) groupLogs.set(operation.sourceId, entry);
    });
    if (work.members) {
      memberships = planMemberships({
        groups: work.members,
        exported: groupedMemberships(
          await store.loadMemberships(work.members.map((group) => group.sourceId)),
        ),
        // The slice's member lists hold provisioned users only.
        provisionedUsers: new Set(work.members.flatMap((group) => group.memberIds)),
      });
      const links = await linksForMemberships(store, memberships);
      await mapWithConcurrency(memberships, UNIT_CONCURRENCY, async (membership) => {
        const entry = await executeMembership(
          ports,
          membership,
          links,
          counts,
          groupLogs.get(membership.groupSourceId),
        );
        if (entry) groupLogs.set(membership.groupSourceId, entry);
      });
    }
  } finally {
    await store.writeLogs([...groupLogs.values()]);
  }
  return { counts, memberships };
}

const LINKS_PER_QUERY = 1_000;

/** The links executeMembership needs (the groups' and their added or removed members'), read as it runs. */
export async function linksForMemberships(
  store: Pick<CycleStore, "loadLinksFor">,
  memberships: readonly PlannedMembership[],
): Promise<Map<string, ObjectLinkRecord>> {
  const links = new Map<string, ObjectLinkRecord>();
  const wanted: [ObjectType, string[]][] = [
    ["Group", memberships.map((membership) => membership.groupSourceId)],
    ["User", [...new Set(memberships.flatMap((membership) => [...membership.add, ...membership.remove]))]],
  ];
  for (const [objectType, ids] of wanted)
    for (let offset = 0; offset < ids.length; offset += LINKS_PER_QUERY)
      for (const link of await store.loadLinksFor(objectType, ids.slice(offset, offset + LINKS_PER_QUERY)))
        links.set(linkKey(objectType, link.sourceId), link);
  return links;
}
