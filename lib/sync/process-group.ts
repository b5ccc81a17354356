import type { GraphClient, GraphGroup } from "../graph";
import { eq, expectSingleMatch, isScimError, type ScimClient, type ScimGroup } from "../scim";
import type { CycleStore } from "./cycle-ports";
import { MappingEvaluationError } from "./mapping-adapter";
import type { OnDemandResult } from "./on-demand-types";
import { describeRequestFailure, OnDemandRecorder, scopeClauseDetails } from "./on-demand-result";
import type { LinkStore, ObjectMappingEngine } from "./ports";
import { loadAssignmentsOf } from "./process-user";
import { graphGroupSelectFor, toEntraGroup } from "./source";

/** Entra's limit for on-demand provisioning of a group: the group and at most five of its members. */
export const ON_DEMAND_GROUP_MEMBER_LIMIT = 5;

export interface ProcessGroupContext {
  graph: GraphClient;
  scim: ScimClient;
  links: LinkStore;
  memberships: Pick<CycleStore, "addMemberships" | "removeMemberships">;
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

  // 2. Scope: the group mapping is on, the group is assigned (unless "sync all"), the scoping filter.
  const assignments = await loadAssignmentsOf(context, { type: "Group", id: graphGroup.id });
  const assigned = context.scope === "All" || (assignments?.groupRoles.has(graphGroup.id) ?? true);
  const defaultAccessOnly = !assigned && (assignments?.defaultAccessGroups.has(graphGroup.id) ?? false);
  const scopeResult = context.mapping.scope(source);
  const isInScope = context.enabled && assigned && scopeResult.inScope;
  step({
    name: "EntrySynchronizationScoping",
    type: "Scoping",
    status: isInScope ? "success" : "skipped",
    description: isInScope
      ? "The group is in scope"
      : !context.enabled
        ? "Group provisioning is turned off in Mappings"
        : !assigned
          ? defaultAccessOnly
            ? "The group is assigned with Default Access only, which is excluded from provisioning"
            : "The group is not assigned to the Dialpad application"
          : "The group does not match the scoping filter",
    details: {
      "Group mapping enabled": context.enabled,
      "Scope sync all": context.scope === "All",
      "Assigned to the application": context.scope === "All" ? "not required" : assigned,
      ...scopeClauseDetails(scopeResult),
      ScopeEvaluationResult: isInScope ? "in scope" : "out of scope",
    },
  });

  let groupResult: OnDemandResult;
  let target: ScimGroup | undefined;
  try {
    // 3. Match: the linked id first, then each matching attribute in precedence.
    const link = await context.links.get("Group", graphGroup.id);
    let matchedBy = "";
    if (link) {
      try {
        target = await context.scim.getGroup(link.targetId, { excludeMembers: true });
        matchedBy = `linked id ${link.targetId}`;
      } catch (error) {
        if (!(isScimError(error) && error.status === 404)) throw error;
        await context.links.remove("Group", graphGroup.id);
      }
    }
    const matching = context.mapping.matching(source);
    for (const candidate of target ? [] : matching) {
      const single = expectSingleMatch(
        await context.scim.findGroups(eq(candidate.targetAttribute, candidate.value), {
          excludeMembers: true,
        }),
      );
      if (single) {
        target = single;
        matchedBy = `${candidate.targetAttribute} eq "${candidate.value}"`;
        break;
      }
    }
    record.targetIdentity = {
      id: target?.id ?? null,
      type: "Group",
      displayName: target ? String(target.displayName ?? target.id) : null,
    };
    step({
      name: "EntryImportByMatch",
      type: "Matching",
      status: "success",
      description: target
        ? `Matched a Dialpad group by ${matchedBy}`
        : "No matching group was found in Dialpad",
      details: {
        "Matching attributes":
          matching.map((value) => `${value.targetAttribute} = ${value.value}`).join("; ") || "—",
        ...(target ? { "Matched group id": target.id } : {}),
      },
    });

    // 4. Act on the group itself.
    groupResult = await actOnGroup(graphGroup.id, source, target, isInScope, record, context);
    if (groupResult.action === "Create" && groupResult.status === "Success")
      target = {
        id: groupResult.targetIdentity.id!,
        displayName: groupResult.targetIdentity.displayName ?? "",
      };
    if (groupResult.action === "Delete" && groupResult.status === "Success") target = undefined;
  } catch (error) {
    groupResult = failGroup(error, record);
    target = undefined;
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

async function actOnGroup(
  sourceId: string,
  source: Record<string, unknown>,
  target: ScimGroup | undefined,
  isInScope: boolean,
  record: OnDemandRecorder,
  context: ProcessGroupContext,
): Promise<OnDemandResult> {
  const skip = (description: string, statusInfo: Parameters<OnDemandRecorder["finish"]>[2]) => {
    record.step({
      name: "EntrySynchronizationSkip",
      type: "Export",
      status: "skipped",
      description,
      details: {},
    });
    return record.finish("Other", "Skipped", { errorCategory: "nonServiceFailure", ...statusInfo });
  };
  const saveLink = (targetId: string) =>
    context.links.save({
      objectType: "Group",
      sourceId,
      targetId,
      displayName: record.sourceIdentity.displayName,
      exportedHash: context.mapping.desiredHash(source),
      active: true,
    });

  if (!isInScope) {
    if (!target)
      return skip("Out of scope and not in Dialpad: nothing to do", {
        errorCode: "EntrySynchronizationSkipped",
        reason: "The group is out of scope and does not exist in Dialpad.",
        recommendedAction:
          "To provision the group, assign it to the Dialpad app (with a role other than Default Access), turn group provisioning on, or adjust the group scoping filter.",
      });
    // A SCIM group has no "active": leaving scope removes it from Dialpad, as a cycle does.
    if (!context.actions.delete)
      return skip("Out of scope, but Delete is turned off for groups; it stays in Dialpad", {
        errorCode: "EntrySynchronizationSkipped",
        reason: "Delete is turned off for groups.",
      });
    await context.scim.deleteGroup(target.id);
    await context.links.remove("Group", sourceId);
    record.step({
      name: "EntryExportDelete",
      type: "Export",
      status: "success",
      description: `Deleted the group from Dialpad (id ${target.id}) because it is out of scope`,
      details: {},
    });
    return record.finish("Delete", "Success");
  }

  if (!target) {
    if (!context.actions.create)
      return skip("Create is not a target object action; the group was not created", {
        errorCode: "EntrySynchronizationSkipped",
        reason: "Create is turned off for groups.",
      });
    const { resource, exported } = context.mapping.createResource(source);
    const created = await context.scim.createGroup(resource);
    record.modifiedProperties = exported;
    record.targetIdentity = {
      id: created.id,
      type: "Group",
      displayName: String(created.displayName ?? created.id),
    };
    await saveLink(created.id);
    record.step({
      name: "EntryExportAdd",
      type: "Export",
      status: "success",
      description: `Created the group in Dialpad (id ${created.id})`,
      details: Object.fromEntries(exported.map((property) => [property.displayName, property.newValue])),
    });
    return record.finish("Create", "Success");
  }

  const patch = context.mapping.patch(source, target);
  // Dialpad refuses group renames (Entra's Dialpad tutorial, "Connector limitations").
  const rename = patch.operations.find((operation) => operation.path?.toLowerCase() === "displayname");
  const operations = patch.operations.filter((operation) => operation !== rename);
  const modified = patch.modified.filter((property) => property.displayName.toLowerCase() !== "displayname");
  await saveLink(target.id);
  if (operations.length === 0) {
    if (rename)
      return skip(
        `Dialpad does not support renaming groups; the new name "${String(rename.value)}" was not sent`,
        {
          errorCode: "GroupRenameNotSupported",
          reason: `Dialpad does not support renaming groups; the group keeps its name "${String(target.displayName ?? "")}" in Dialpad.`,
          recommendedAction:
            "Rename the group in Dialpad by hand, or create a new group in Entra ID with the new name and assign it.",
        },
      );
    return skip("The group in Dialpad already matches Entra ID; nothing was sent", {
      errorCode: "RedundantExport",
      reason: "The state of the group in both the source and target systems already match.",
    });
  }
  if (!context.actions.update)
    return skip("Update is not a target object action; the differences were not sent", {
      errorCode: "EntrySynchronizationSkipped",
      reason: "Update is turned off for groups.",
    });
  await context.scim.patchGroup(target.id, operations);
  record.modifiedProperties = modified;
  record.step({
    name: "EntryExportUpdate",
    type: "Export",
    status: "success",
    description:
      `Updated ${modified.length} attribute(s) of the group in Dialpad` +
      (rename
        ? `; the rename to "${String(rename.value)}" was not sent (Dialpad does not support group renames)`
        : ""),
    details: Object.fromEntries(modified.map((property) => [property.displayName, property.newValue])),
  });
  return record.finish("Update", "Success");
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
    if (alreadyMembers.length) await context.memberships.addMemberships(groupSourceId, alreadyMembers);
    if (notMembers.length) await context.memberships.removeMemberships(groupSourceId, notMembers);
    const reference = (value: { userTargetId: string }) => ({ $ref: null, value: value.userTargetId });
    if (toAdd.length) {
      await context.scim.patchGroup(target.id, [{ op: "Add", path: "members", value: toAdd.map(reference) }]);
      await context.memberships.addMemberships(groupSourceId, toAdd);
    }
    if (toRemove.length) {
      await context.scim.patchGroup(target.id, [
        { op: "Remove", path: "members", value: toRemove.map(reference) },
      ]);
      await context.memberships.removeMemberships(
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
