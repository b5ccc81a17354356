import type { GraphClient, GraphUser } from "../graph";
import type { ScimClient } from "../scim";
import { entitlementOfUser, indexAssignments, SYNC_ALL, type AssignmentIndex } from "./assignment";
import type { CycleStore } from "./cycle-ports";
import { decideObject, QuarantineException, toCandidate } from "./decide";
import { emptyCounts, executeOperation } from "./execute";
import type { RefusalRegistry } from "./refusals";
import type { OnDemandResult, ProvisioningAction } from "./on-demand-types";
import { OnDemandRecorder } from "./on-demand-result";
import type { PlannedOperation } from "./plan";
import type { LinkStore, ObjectMappingEngine } from "./ports";
import { graphSelectFor } from "./source";

export interface ProcessUserContext {
  graph: GraphClient;
  scim: ScimClient;
  links: LinkStore;
  /** Where links, escrows and memberships are written; the log entry is the caller's to write. */
  store: CycleStore;
  mapping: ObjectMappingEngine;
  /** Entra's SkipOutOfScopeDeletions: a user leaving scope is left as it is in Dialpad. */
  skipOutOfScopeDeletions?: boolean;
  /** Attributes Dialpad refuses; the mapping engine should be built with the same registry. */
  refusals?: RefusalRegistry;
  servicePrincipalId: string | null;
  scope: "AssignedOnly" | "All";
  /** Target object actions of the user mapping (Entra's Create / Update / Delete checkboxes). */
  actions: { create: boolean; update: boolean; delete: boolean };
  changeId: string;
  /** Why?: decide what would be done and stop before any write to Dialpad or the link store. */
  dryRun?: boolean;
  now?: () => Date;
}

/**
 * Provisions one user now (on demand, replay) or says what the next provisioning would do (Why?),
 * through the same decision and execution as a cycle: the user's entitlement from its own assignments,
 * scoping, matching (which on demand always verifies against Dialpad), the planned operation, and its
 * execution with link, escrow and log entry. Failures become a Failure result, never an exception.
 */
export async function processUser(objectId: string, context: ProcessUserContext): Promise<OnDemandResult> {
  const now = context.now ?? (() => new Date());
  const record = new OnDemandRecorder("User", objectId, context.changeId, now);

  let graphUser: GraphUser;
  try {
    graphUser = await context.graph.getUser(objectId, graphSelectFor(context.mapping.sourceAttributes()));
  } catch (error) {
    return importFailed(record, error);
  }
  record.sourceIdentity = {
    id: graphUser.id,
    type: "User",
    displayName: graphUser.displayName ?? graphUser.userPrincipalName ?? null,
    details: { userPrincipalName: graphUser.userPrincipalName ?? null },
  };

  const assignments = await loadAssignmentsOf(context, { type: "User", id: graphUser.id });
  // The user's list names only groups it is a direct member of, so every assigned group in it counts.
  const memberOf = assignments ? [...assignments.groupRoles.keys(), ...assignments.defaultAccessGroups] : [];
  const entitlement = assignments ? entitlementOfUser(assignments, graphUser.id, memberOf) : SYNC_ALL;
  const link = await context.links.get("User", graphUser.id);
  const candidate = toCandidate("User", graphUser, "on-demand", entitlement, link);
  let operation: PlannedOperation;
  let targetName: string | null = null;
  try {
    const decision = await decideObject(candidate, link, {
      objectType: "User",
      engine: context.mapping,
      actions: context.actions,
      cycleType: "incremental",
      now: now().toISOString(),
      scim: context.scim,
      verifyTarget: true,
      skipOutOfScopeDeletions: context.skipOutOfScopeDeletions ?? false,
    });
    operation = decision.operation;
    if (decision.lookup?.status === "found")
      targetName = String(decision.lookup.resource.userName ?? decision.lookup.resource.id);
  } catch (error) {
    return record.failRequest(link ? "Update" : "Create", error);
  }
  record.targetIdentity = { id: operation.targetId, type: "User", displayName: targetName };
  record.modifiedProperties = operation.modifiedProperties;

  if (context.dryRun) return explainOnly(record, operation);
  let entry;
  try {
    entry = await executeOperation(
      { scim: context.scim, store: context.store, refusals: context.refusals },
      operation,
      new Map(),
      emptyCounts(),
    );
  } catch (error) {
    if (!(error instanceof QuarantineException)) throw error;
    record.steps.push(...operation.steps);
    record.step({
      name: "EntryExport",
      type: "Export",
      status: "failure",
      description: `${error.system} refused the credentials`,
      details: { errorCode: error.errorCode },
    });
    return record.finish(operation.action, "Failure", {
      errorCode: error.errorCode,
      errorCategory: "failure",
      reason: error.message,
      recommendedAction:
        "Check the tenant URL and secret token in Provisioning settings, then test the connection.",
    });
  }
  if (!entry) return fromOperation(record, operation);
  record.steps.push(...entry.steps);
  record.targetIdentity = {
    id: entry.targetId,
    type: "User",
    displayName:
      targetName ??
      (entry.targetId && typeof operation.resource?.userName === "string"
        ? operation.resource.userName
        : null),
  };
  return record.finish(entry.action, entry.status, {
    errorCode: entry.errorCode,
    errorCategory: entry.errorCategory as "failure" | "nonServiceFailure" | undefined,
    reason: entry.errorReason,
    recommendedAction: entry.recommendedAction,
  });
}

/** A skip or a failure found while deciding, as the result says it (nothing was sent). */
export function fromOperation(record: OnDemandRecorder, operation: PlannedOperation): OnDemandResult {
  record.steps.push(...operation.steps);
  if (operation.kind === "skip" || operation.kind === "fail") {
    record.step({
      name: operation.kind === "skip" ? "EntrySynchronizationSkip" : "EntryExport",
      type: "Export",
      status: operation.kind === "skip" ? "skipped" : "failure",
      description: operation.reason,
      details: {},
    });
  }
  return record.finish(
    operation.kind === "skip" ? "Other" : operation.action,
    operation.kind === "fail" ? "Failure" : "Skipped",
    { ...operation.statusInfo, reason: operation.statusInfo?.reason ?? operation.reason },
  );
}

const WOULD: Record<string, (operation: PlannedOperation) => string> = {
  create: () => "create the user in Dialpad",
  update: (operation) => `update ${operation.modifiedProperties.length} attribute(s) of the user in Dialpad`,
  disable: (operation) => `disable the user in Dialpad (${operation.reason.toLowerCase()})`,
  delete: () => "delete the user in Dialpad",
};

/** Why?: what the next provisioning would do with this user; nothing was written anywhere. */
function explainOnly(record: OnDemandRecorder, operation: PlannedOperation): OnDemandResult {
  const would = WOULD[operation.kind];
  if (!would) return fromOperation(record, operation);
  record.steps.push(...operation.steps);
  const what = would(operation);
  record.step({
    name: "EntryExportPreview",
    type: "Export",
    status: "skipped",
    description: `Would ${what}; nothing was sent (explain only)`,
    details: Object.fromEntries(
      operation.modifiedProperties.map((property) => [property.displayName, property.newValue]),
    ),
  });
  return record.finish(operation.action as ProvisioningAction, "Skipped", {
    errorCode: "ExplainOnly",
    errorCategory: "nonServiceFailure",
    reason: `The next provisioning of this user would ${what}.`,
  });
}

function importFailed(record: OnDemandRecorder, error: unknown): OnDemandResult {
  const notFound = (error as { status?: number }).status === 404;
  record.step({
    name: "EntryImport",
    type: "Import",
    status: "failure",
    description: notFound
      ? "The user was not found in Microsoft Entra ID"
      : "Could not read the user from Microsoft Entra ID",
    details: { error: error instanceof Error ? error.message : String(error) },
  });
  return record.finish("Other", "Failure", {
    errorCode: notFound ? "EntryImportFailed" : "SourceUnavailable",
    errorCategory: notFound ? "nonServiceFailure" : "failure",
    reason: error instanceof Error ? error.message : String(error),
    recommendedAction: notFound
      ? "Check the object id; a user deleted in Entra ID can no longer be provisioned on demand."
      : "Check the Microsoft Graph credentials in Provisioning settings and try again.",
  });
}

/**
 * The app's assignments that concern one object, read from the object itself: a user's list holds its
 * direct assignments and those of the groups it is a direct member of (nesting is not followed, as in
 * Entra); a group's list holds its own. A few requests whatever the size of the directory; undefined
 * with "sync all", where assignments do not matter.
 */
export async function loadAssignmentsOf(
  context: Pick<ProcessUserContext, "scope" | "servicePrincipalId" | "graph">,
  principal: { type: "User" | "Group"; id: string },
): Promise<AssignmentIndex | undefined> {
  if (context.scope === "All" || !context.servicePrincipalId) return undefined;
  const assignments = [];
  const pages =
    principal.type === "User"
      ? context.graph.listUserAppRoleAssignments(principal.id, context.servicePrincipalId)
      : context.graph.listGroupAppRoleAssignments(principal.id, context.servicePrincipalId);
  for await (const page of pages)
    assignments.push(
      ...page.value.filter((assignment) => assignment.resourceId === context.servicePrincipalId),
    );
  return indexAssignments(assignments);
}
