import type { GraphClient, GraphGroup } from "../graph";
import type { ScimClient, ScimGroup } from "../scim";
import type { CycleStore } from "./cycle-ports";
import { MappingEvaluationError } from "./mapping-adapter";
import type { OnDemandResult } from "./on-demand-types";
import { describeRequestFailure, OnDemandRecorder } from "./on-demand-result";
import type { LinkStore, ObjectMappingEngine } from "./ports";
import { fromOperation, loadAssignmentsOf } from "./process-user";
import { entitlementOfGroup, SYNC_ALL } from "./assignment";
import { decideObject, toCandidate } from "./decide";
import { emptyCounts, executeOperation } from "./execute";
import { graphGroupSelectFor, toEntraGroup } from "./source";

/** Entra's limit for on-demand provisioning of a group: the group and at most five of its members. */
export const ON_DEMAND_GROUP_MEMBER_LIMIT = 5;

export interface ProcessGroupContext {
  graph: GraphClient;
  scim: ScimClient;
  links: LinkStore;
  /** Links, escrows and memberships are written here, as a cycle writes them. */
  store: CycleStore;
  /** Entra's SkipOutOfScopeDeletions: a group leaving scope is left as it is in Dialpad. */
  skipOutOfScopeDeletions?: boolean;
  /** The group mapping without reference attributes: members are added here, member by member. */
  mapping: ObjectMappingEngine;
  enabled: boolean;
  actions: { create: boolean; update: boolean; delete: boolean };
  /** Whether the group mapping maps members at all (otherwise Dialpad groups stay empty). */
  provisionMembers: boolean;
  servicePrincipalId: string | null;
  scope: "AssignedOnly" | "All";
  changeId: string;
  /** Provisions one member user through the user pipeline, with its own change id and log entry. */
  provisionMember(userId: string): Promise<OnDemandResult>;
  now?: () => Date;
}

export interface GroupOnDemandResult {
  group: OnDemandResult;
  members: OnDemandResult[];
}

/**
 * Provisions one group and up to five of its direct members now, as Entra's on-demand provisioning of a
 * group does: the group is imported, scoped, matched and created or updated (a rename is never sent,
 * Dialpad refuses it), then each chosen member goes through the user pipeline, and finally the members
 * that are in Dialpad are added to the Dialpad group (members that left scope are removed from it).
 */
export async function processGroup(
  groupId: string,
  memberIds: readonly string[],
  context: ProcessGroupContext,
): Promise<GroupOnDemandResult> {
  const now = context.now ?? (() => new Date());
  const record = new OnDemandRecorder("Group", groupId, context.changeId, now);
  const { step, finish } = { step: record.step.bind(record), finish: record.finish.bind(record) };
  const members: OnDemandResult[] = [];
  const done = (group: OnDemandResult): GroupOnDemandResult => ({ group, members });

  // 1. Import the group and check that every chosen member is a direct member (nesting is not followed).
  let graphGroup: GraphGroup;
  const directMembers = new Set<string>();
  try {
    graphGroup = await context.graph.getGroup(
      groupId,
      graphGroupSelectFor(context.mapping.sourceAttributes()),
    );
    for await (const page of context.graph.listGroupMembers(groupId, ["id"]))
      for (const member of page.value) directMembers.add(member.id);
  } catch (error) {
    const notFound = (error as { status?: number }).status === 404;
    step({
      name: "EntryImport",
      type: "Import",
      status: "failure",
      description: notFound
        ? "The group was not found in Microsoft Entra ID"
        : "Could not read the group from Microsoft Entra ID",
      details: { error: error instanceof Error ? error.message : String(error) },
    });
    return done(
      finish("Other", "Failure", {
        errorCode: notFound ? "EntryImportFailed" : "SourceUnavailable",
        errorCategory: notFound ? "nonServiceFailure" : "failure",
        reason: error instanceof Error ? error.message : String(error),
        recommendedAction: notFound
          ? "Check the group's object id; a group deleted in Entra ID can no longer be provisioned."
          : "Check the Microsoft Graph credentials in Provisioning settings and try again.",
      }),
    );
  }
  const displayName = (graphGroup.displayName as string | null | undefined) ?? null;
  record.sourceIdentity = { id: graphGroup.id, type: "Group", displayName, details: {} };
  const source = toEntraGroup(graphGroup);
  const notDirect = memberIds.filter((id) => !directMembers.has(id));
  step({
    name: "EntryImport",
    type: "Import",
    status: notDirect.length ? "warning" : "success",
    description: `Retrieved ${displayName ?? graphGroup.id} and its ${directMembers.size} direct member(s) from Microsoft Entra ID`,
    details: {
      ...source,
      "Direct members": directMembers.size,
      ...(notDirect.length ? { "Not direct members (not provisioned)": notDirect.join(", ") } : {}),
    },
  });

  // 2–4. Scope, match and act on the group through the one decision path of cycles (decide.ts).
  let groupResult: OnDemandResult;
  let target: { id: string; displayName: string } | undefined;
  let isInScope = false;
  if (!context.enabled) {
    // A cycle reads no group at all while group provisioning is off; on demand says so.
    step({
      name: "EntrySynchronizationScoping",
      type: "Scoping",
      status: "skipped",
      description: "Group provisioning is turned off in Mappings",
      details: { "Group mapping enabled": false },
    });
    groupResult = finish("Other", "Skipped", {
      errorCode: "EntrySynchronizationSkipped",
      errorCategory: "nonServiceFailure",
      reason: "Group provisioning is turned off in Mappings.",
      recommendedAction: "Turn the group mapping on in Mappings to provision groups.",
    });
  } else {
    try {
      const assignments = await loadAssignmentsOf(context, { type: "Group", id: graphGroup.id });
      const entitlement = assignments ? entitlementOfGroup(assignments, graphGroup.id) : SYNC_ALL;
      const link = await context.links.get("Group", graphGroup.id);
      const candidate = toCandidate("Group", graphGroup, "on-demand", entitlement, link);
      const decision = await decideObject(candidate, link, {
        objectType: "Group",
        engine: context.mapping,
        actions: context.actions,
        cycleType: "incremental",
        now: now().toISOString(),
        scim: context.scim,
        verifyTarget: true,
        skipOutOfScopeDeletions: context.skipOutOfScopeDeletions ?? false,
      });
      isInScope = decision.evaluation.inScope;
      const { operation } = decision;
      const found = decision.lookup?.status === "found" ? decision.lookup.resource : null;
      const foundName = found ? String(found.displayName ?? found.id) : null;
      record.targetIdentity = {
        id: operation.targetId ?? found?.id ?? null,
        type: "Group",
        displayName: foundName,
      };
      record.modifiedProperties = operation.modifiedProperties;
      const entry = await executeOperation(
        { scim: context.scim, store: context.store },
        operation,
        new Map(),
        emptyCounts(),
      );
      if (!entry) {
        groupResult = fromOperation(record, operation);
        if (found) target = { id: found.id, displayName: foundName ?? "" };
      } else {
        record.steps.push(...entry.steps);
        const targetId = entry.targetId ?? found?.id ?? null;
        record.targetIdentity = { id: targetId, type: "Group", displayName: foundName ?? displayName };
        groupResult = record.finish(entry.action, entry.status, {
          errorCode: entry.errorCode,
          errorCategory: entry.errorCategory as "failure" | "nonServiceFailure" | undefined,
          reason: entry.errorReason,
          recommendedAction: entry.recommendedAction,
        });
        const gone = operation.kind === "delete" && entry.status !== "Failure";
        if (targetId && !gone && entry.status !== "Failure")
          target = { id: targetId, displayName: foundName ?? displayName ?? "" };
      }
    } catch (error) {
      groupResult = failGroup(error, record);
      target = undefined;
    }
  }

  // 5. The chosen members, each through the user pipeline (its own log entry).
  for (const memberId of memberIds) {
    if (directMembers.has(memberId)) members.push(await context.provisionMember(memberId));
    else members.push(notADirectMember(memberId, record.sourceIdentity.displayName, context.changeId, now));
  }

  // 6. References: add the members that are in Dialpad to the Dialpad group; remove those that left.
  if (members.length === 0 || groupResult.status === "Failure") return done(groupResult);
  if (!target || !isInScope) {
    step({
      name: "EntryReferenceResolution",
      type: "ReferenceResolution",
      status: "skipped",
      description: "The group is not in Dialpad, so no member was added to it",
      details: {},
    });
    return done({ ...groupResult, provisioningSteps: record.steps });
  }
  if (!context.provisionMembers) {
    step({
      name: "EntryReferenceResolution",
      type: "ReferenceResolution",
      status: "skipped",
      description: "The group mapping does not map members, so Dialpad group membership is not managed",
      details: {},
    });
    return done({ ...groupResult, provisioningSteps: record.steps });
  }
  return done(await resolveMembers(graphGroup.id, target, members, groupResult, record, context));
}

async function resolveMembers(
  groupSourceId: string,
  target: ScimGroup,
  members: OnDemandResult[],
  groupResult: OnDemandResult,
  record: OnDemandRecorder,
  context: ProcessGroupContext,
): Promise<OnDemandResult> {
  try {
    // Read the Dialpad group's members once, so a member already there costs no request.
    const provisioned = members.filter((member) => member.statusInfo.errorCode !== NOT_A_DIRECT_MEMBER);
    const withMembers = await context.scim.getGroup(target.id, { excludeMembers: false });
    const present = new Set((withMembers.members ?? []).map((member) => member.value));
    const outcome: Record<string, string> = {};
    const toAdd: { userSourceId: string; userTargetId: string }[] = [];
    const toRemove: { userSourceId: string; userTargetId: string }[] = [];
    // The membership store mirrors Dialpad, so the next cycle neither adds again nor misses a removal.
    const alreadyMembers: { userSourceId: string; userTargetId: string }[] = [];
    const notMembers: string[] = [];
    for (const member of provisioned) {
      const label = member.reportableIdentifier ?? member.sourceIdentity.id ?? "";
      const userSourceId = member.sourceIdentity.id ?? "";
      const link = await context.links.get("User", userSourceId);
      // As in a cycle: an in-scope member belongs in the group even while disabled; out of scope, it leaves.
      const inScope = member.provisioningSteps.some(
        (step) => step.type === "Scoping" && step.status === "success",
      );
      const belongs = link !== null && inScope && member.status !== "Failure";
      if (belongs) {
        const membership = { userSourceId, userTargetId: link.targetId };
        if (present.has(link.targetId)) {
          alreadyMembers.push(membership);
          outcome[label] = "already a member";
        } else {
          toAdd.push(membership);
          outcome[label] = "added";
        }
      } else if (link && present.has(link.targetId)) {
        toRemove.push({ userSourceId, userTargetId: link.targetId });
        outcome[label] = "removed (the user is out of scope)";
      } else {
        notMembers.push(userSourceId);
        outcome[label] =
          member.status === "Failure" ? "not added: the user failed" : "not added: not in Dialpad";
      }
    }
    if (alreadyMembers.length) await context.store.addMemberships(groupSourceId, alreadyMembers);
    if (notMembers.length) await context.store.removeMemberships(groupSourceId, notMembers);
    const reference = (value: { userTargetId: string }) => ({ $ref: null, value: value.userTargetId });
    if (toAdd.length) {
      await context.scim.patchGroup(target.id, [{ op: "Add", path: "members", value: toAdd.map(reference) }]);
      await context.store.addMemberships(groupSourceId, toAdd);
    }
    if (toRemove.length) {
      await context.scim.patchGroup(target.id, [
        { op: "Remove", path: "members", value: toRemove.map(reference) },
      ]);
      await context.store.removeMemberships(
        groupSourceId,
        toRemove.map((member) => member.userSourceId),
      );
    }
    record.step({
      name: "EntryReferenceResolution",
      type: "ReferenceResolution",
      status: "success",
      description:
        toAdd.length || toRemove.length
          ? `Added ${toAdd.length} and removed ${toRemove.length} member(s) of the Dialpad group`
          : "The chosen members' Dialpad group membership already matches",
      details: outcome,
    });
    const modifiedProperties = [
      ...groupResult.modifiedProperties,
      ...(toAdd.length
        ? [
            {
              displayName: "members (added)",
              oldValue: null,
              newValue: toAdd.map((m) => m.userTargetId).join(", "),
            },
          ]
        : []),
      ...(toRemove.length
        ? [
            {
              displayName: "members (removed)",
              oldValue: toRemove.map((m) => m.userTargetId).join(", "),
              newValue: null,
            },
          ]
        : []),
    ];
    if ((toAdd.length || toRemove.length) && groupResult.action === "Other") {
      // Only the membership changed: Entra reports that as an update of the group.
      return {
        ...groupResult,
        action: "Update",
        status: "Success",
        statusInfo: { status: "Success" },
        modifiedProperties,
        provisioningSteps: record.steps,
        endTime: new Date().toISOString(),
      };
    }
    return { ...groupResult, modifiedProperties, provisioningSteps: record.steps };
  } catch (error) {
    const failure = describeRequestFailure(error);
    record.step({
      name: "EntryReferenceResolution",
      type: "ReferenceResolution",
      status: "failure",
      description: "Adding the members to the Dialpad group failed",
      details: failure.details,
    });
    return {
      ...groupResult,
      status: "Failure",
      provisioningSteps: record.steps,
      statusInfo: { status: "Failure", ...failure.statusInfo },
    };
  }
}

export const NOT_A_DIRECT_MEMBER = "NotADirectMember";

/** Entra does not follow nested groups: a user picked who is not a direct member is not provisioned. */
function notADirectMember(
  userId: string,
  groupName: string | null,
  changeId: string,
  now: () => Date,
): OnDemandResult {
  const record = new OnDemandRecorder("User", userId, changeId, now);
  record.step({
    name: "EntryImport",
    type: "Import",
    status: "skipped",
    description: `The user is not a direct member of ${groupName ?? "the group"}`,
    details: {},
  });
  return record.finish("Other", "Skipped", {
    errorCode: NOT_A_DIRECT_MEMBER,
    errorCategory: "nonServiceFailure",
    reason: `The user is not a direct member of ${groupName ?? "the group"}; nested membership is not followed.`,
    recommendedAction: "Pick members from the group's direct members, or provision the user on its own.",
  });
}

function failGroup(error: unknown, record: OnDemandRecorder): OnDemandResult {
  const action = record.targetIdentity.id ? "Update" : "Create";
  if (error instanceof MappingEvaluationError) {
    record.step({
      name: "EntryExport",
      type: "Export",
      status: "failure",
      description: "An attribute mapping could not be evaluated for this group",
      details: Object.fromEntries(error.problems.map((problem) => [problem.target, problem.message])),
    });
    return record.finish(action, "Failure", {
      errorCode: "AttributeMappingFailed",
      errorCategory: "nonServiceFailure",
      reason: error.message,
      recommendedAction: "Correct the group mapping's expression in Mappings, then retry.",
    });
  }
  return record.failRequest(action, error);
}
