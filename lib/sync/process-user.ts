import type { GraphClient, GraphUser } from "../graph";
import { eq, expectSingleMatch, isScimError, type ScimClient, type ScimUser } from "../scim";
import { indexAssignments, userEntitlement, type AssignmentIndex } from "./assignment";
import type { OnDemandResult, ProvisioningAction } from "./on-demand-types";
import { OnDemandRecorder, scopeClauseDetails } from "./on-demand-result";
import type { LinkStore, ObjectMappingEngine } from "./ports";
import { MappingEvaluationError } from "./mapping-adapter";
import { graphSelectFor, toEntraUser } from "./source";

export interface ProcessUserContext {
  graph: GraphClient;
  scim: ScimClient;
  links: LinkStore;
  mapping: ObjectMappingEngine;
  servicePrincipalId: string | null;
  scope: "AssignedOnly" | "All";
  /** Target object actions of the user mapping (Entra's Create / Update / Delete checkboxes). */
  actions: { create: boolean; update: boolean; delete: boolean };
  changeId: string;
  /** Explain only: decide what would be done and stop before any write to Dialpad or the link store. */
  dryRun?: boolean;
  now?: () => Date;
}

/**
 * Provisions one user the way Entra's provisioning service does, step by step: import from Graph,
 * determine scope (assignment, role, scoping filter), match in Dialpad (linked id first, then each
 * matching attribute in precedence), then create, update, disable or skip. Every step is recorded for
 * the on-demand view and the provisioning log; failures become a Failure result, never an exception.
 */
export async function processUser(objectId: string, context: ProcessUserContext): Promise<OnDemandResult> {
  const now = context.now ?? (() => new Date());
  const record = new OnDemandRecorder("User", objectId, context.changeId, now);
  const step = record.step.bind(record);
  const finish = record.finish.bind(record);
  const wouldDo = (action: ProvisioningAction, what: string) => {
    step({
      name: "EntryExportPreview",
      type: "Export",
      status: "skipped",
      description: `Would ${what}; nothing was sent (explain only)`,
      details: Object.fromEntries(
        record.modifiedProperties.map((property) => [property.displayName, property.newValue]),
      ),
    });
    return finish(action, "Skipped", {
      errorCode: "ExplainOnly",
      errorCategory: "nonServiceFailure",
      reason: `The next provisioning of this user would ${what}.`,
    });
  };

  // 1. Import
  let graphUser: GraphUser;
  try {
    graphUser = await context.graph.getUser(objectId, graphSelectFor(context.mapping.sourceAttributes()));
  } catch (error) {
    const notFound = (error as { status?: number }).status === 404;
    step({
      name: "EntryImport",
      type: "Import",
      status: "failure",
      description: notFound
        ? "The user was not found in Microsoft Entra ID"
        : "Could not read the user from Microsoft Entra ID",
      details: { error: error instanceof Error ? error.message : String(error) },
    });
    return finish("Other", "Failure", {
      errorCode: notFound ? "EntryImportFailed" : "SourceUnavailable",
      errorCategory: notFound ? "nonServiceFailure" : "failure",
      reason: error instanceof Error ? error.message : String(error),
      recommendedAction: notFound
        ? "Check the object id; a user deleted in Entra ID can no longer be provisioned on demand."
        : "Check the Microsoft Graph credentials in Provisioning settings and try again.",
    });
  }
  record.sourceIdentity = {
    id: graphUser.id,
    type: "User",
    displayName: graphUser.displayName ?? graphUser.userPrincipalName ?? null,
    details: { userPrincipalName: graphUser.userPrincipalName ?? null },
  };

  // 2. Scope: assignment (unless "sync all"), required role, scoping filter.
  const assignments = await loadAssignmentsOf(context, { type: "User", id: graphUser.id });
  // The user's list names only groups it is a direct member of, so every assigned group in it counts.
  const memberOf = assignments ? [...assignments.groupRoles.keys(), ...assignments.defaultAccessGroups] : [];
  const entitlement = assignments
    ? userEntitlement(graphUser.id, assignments, memberOf)
    : { assigned: true, hasRequiredRole: true, via: ["sync all"], roleIds: [] };
  const isEntitled = context.scope === "All" || (entitlement.assigned && entitlement.hasRequiredRole);
  const isActive = graphUser.accountEnabled !== false;
  const source = toEntraUser(graphUser, { isSoftDeleted: !isActive || !isEntitled });
  step({
    name: "EntryImport",
    type: "Import",
    status: "success",
    description: `Retrieved ${record.sourceIdentity.displayName ?? graphUser.id} from Microsoft Entra ID`,
    details: source,
  });
  const scopeResult = context.mapping.scope(source);
  const isInScope = isEntitled && scopeResult.inScope;
  step({
    name: "EntrySynchronizationScoping",
    type: "Scoping",
    status: isInScope ? "success" : "skipped",
    description: isInScope
      ? "The user is in scope"
      : describeOutOfScope(context.scope, entitlement, scopeResult.inScope),
    details: {
      "Active in the source system": isActive,
      "Scope sync all": context.scope === "All",
      "Assigned to the application": context.scope === "All" ? "not required" : entitlement.assigned,
      "Assigned through": entitlement.via.join(", ") || "—",
      "User has the required role": context.scope === "All" ? "not required" : entitlement.hasRequiredRole,
      ...scopeClauseDetails(scopeResult),
      ScopeEvaluationResult: isInScope ? "in scope" : "out of scope",
    },
  });

  try {
    // 3. Match
    const link = await context.links.get("User", graphUser.id);
    let current: ScimUser | undefined;
    let matchedBy = "";
    if (link) {
      try {
        current = await context.scim.getUser(link.targetId);
        matchedBy = `linked id ${link.targetId}`;
      } catch (error) {
        if (!(isScimError(error) && error.status === 404)) throw error;
        if (!context.dryRun) await context.links.remove("User", graphUser.id);
      }
    }
    const matchingValues = context.mapping.matching(source);
    if (!current) {
      for (const candidate of matchingValues) {
        const found = await context.scim.findUsers(eq(candidate.targetAttribute, candidate.value));
        const single = expectSingleMatch(found);
        if (single) {
          current = single;
          matchedBy = `${candidate.targetAttribute} eq "${candidate.value}"`;
          break;
        }
      }
    }
    if (!current && matchingValues.length === 0 && isInScope) {
      step({
        name: "EntryImportByMatch",
        type: "Matching",
        status: "failure",
        description: "The user has no value for any matching attribute",
        details: {},
      });
      return finish("Other", "Failure", {
        errorCode: "ImportSkipped",
        errorCategory: "nonServiceFailure",
        reason:
          "None of the matching attributes has a value for this user, so it cannot be looked up in Dialpad.",
        recommendedAction:
          "Give the user a value for the matching attribute (usually userPrincipalName), or change the matching attributes in Mappings.",
      });
    }
    record.targetIdentity = {
      id: current?.id ?? null,
      type: "User",
      displayName: current ? String(current.userName ?? current.displayName ?? current.id) : null,
    };
    step({
      name: "EntryImportByMatch",
      type: "Matching",
      status: "success",
      description: current
        ? `Matched a Dialpad user by ${matchedBy}`
        : "No matching user was found in Dialpad",
      details: {
        "Matching attributes":
          matchingValues.map((value) => `${value.targetAttribute} = ${value.value}`).join("; ") || "—",
        ...(current
          ? { "Matched user id": current.id, "Matched user": record.targetIdentity.displayName }
          : {}),
      },
    });

    // 4. Act
    if (!isInScope) {
      if (!current) {
        step({
          name: "EntrySynchronizationSkip",
          type: "Export",
          status: "skipped",
          description: "Out of scope and not in Dialpad: nothing to do",
          details: {},
        });
        return finish("Other", "Skipped", {
          errorCode: "EntrySynchronizationSkipped",
          errorCategory: "nonServiceFailure",
          reason: "The user is out of scope and does not exist in Dialpad.",
          recommendedAction:
            "If the user should be provisioned, assign the Dialpad app to them (with a role other than Default Access) or adjust the scoping filter.",
        });
      }
      if (current.active === false) {
        step({
          name: "EntrySynchronizationSkip",
          type: "Export",
          status: "skipped",
          description: "Out of scope and already disabled in Dialpad",
          details: {},
        });
        return finish("Other", "Skipped", {
          errorCode: "RedundantExport",
          errorCategory: "nonServiceFailure",
          reason: "The user is already disabled in Dialpad.",
        });
      }
      if (!context.actions.update) {
        step({
          name: "EntrySynchronizationSkip",
          type: "Export",
          status: "skipped",
          description: "Update is not a target object action; the user was left as is",
          details: {},
        });
        return finish("Other", "Skipped", {
          errorCode: "EntrySynchronizationSkipped",
          errorCategory: "nonServiceFailure",
          reason: "Update is turned off for users.",
        });
      }
      record.modifiedProperties = [{ displayName: "active", oldValue: true, newValue: false }];
      if (context.dryRun) return wouldDo("Disable", "disable the user in Dialpad (it is out of scope)");
      await context.scim.patchUser(current.id, [{ op: "Replace", path: "active", value: false }]);
      await context.links.save({
        objectType: "User",
        sourceId: graphUser.id,
        targetId: current.id,
        displayName: record.sourceIdentity.displayName,
        exportedHash: null,
        active: false,
      });
      step({
        name: "EntryExportUpdateSoftDelete",
        type: "Export",
        status: "success",
        description: "Disabled the user in Dialpad (suspended; the licence is freed)",
        details: { active: false },
      });
      return finish("Disable", "Success");
    }

    if (!current) {
      if (!context.actions.create) {
        step({
          name: "EntrySynchronizationSkip",
          type: "Export",
          status: "skipped",
          description: "Create is not a target object action; the user was not created",
          details: {},
        });
        return finish("Other", "Skipped", {
          errorCode: "EntrySynchronizationSkipped",
          errorCategory: "nonServiceFailure",
          reason: "Create is turned off for users.",
        });
      }
      const { resource, exported } = context.mapping.createResource(source);
      record.modifiedProperties = exported;
      if (context.dryRun) return wouldDo("Create", "create the user in Dialpad");
      const created = await context.scim.createUser(resource);
      record.targetIdentity = {
        id: created.id,
        type: "User",
        displayName: String(created.userName ?? created.id),
      };
      await context.links.save({
        objectType: "User",
        sourceId: graphUser.id,
        targetId: created.id,
        displayName: record.sourceIdentity.displayName,
        exportedHash: context.mapping.desiredHash(source),
        active: true,
      });
      step({
        name: "EntryExportAdd",
        type: "Export",
        status: "success",
        description: `Created the user in Dialpad (id ${created.id})`,
        details: Object.fromEntries(exported.map((property) => [property.displayName, property.newValue])),
      });
      return finish("Create", "Success");
    }

    const { operations, modified } = context.mapping.patch(source, current);
    // A user disabled in Entra stays in scope: the mapping sends active false, which is a Disable.
    const disables = operations.some(
      (operation) =>
        operation.path === "active" && (operation.value === false || operation.value === "False"),
    );
    if (!context.dryRun)
      await context.links.save({
        objectType: "User",
        sourceId: graphUser.id,
        targetId: current.id,
        displayName: record.sourceIdentity.displayName,
        exportedHash: context.mapping.desiredHash(source),
        active: isActive,
      });
    if (operations.length === 0) {
      step({
        name: "EntrySynchronizationSkip",
        type: "Export",
        status: "skipped",
        description: "The user in Dialpad already matches Entra ID; nothing was sent",
        details: {},
      });
      return finish("Other", "Skipped", {
        errorCode: "RedundantExport",
        errorCategory: "nonServiceFailure",
        reason: "The state of the user in both the source and target systems already match.",
      });
    }
    if (!context.actions.update) {
      step({
        name: "EntrySynchronizationSkip",
        type: "Export",
        status: "skipped",
        description: "Update is not a target object action; the differences were not sent",
        details: {},
      });
      return finish("Other", "Skipped", {
        errorCode: "EntrySynchronizationSkipped",
        errorCategory: "nonServiceFailure",
        reason: "Update is turned off for users.",
      });
    }
    record.modifiedProperties = modified;
    if (context.dryRun)
      return wouldDo(
        disables ? "Disable" : "Update",
        disables
          ? "disable the user in Dialpad (it is disabled in Microsoft Entra ID)"
          : `update ${modified.length} attribute(s) of the user in Dialpad`,
      );
    await context.scim.patchUser(current.id, operations);
    step({
      name: disables ? "EntryExportUpdateSoftDelete" : "EntryExportUpdate",
      type: "Export",
      status: "success",
      description: disables
        ? "Disabled the user in Dialpad because it is disabled in Microsoft Entra ID"
        : `Updated ${modified.length} attribute(s) of the user in Dialpad`,
      details: Object.fromEntries(modified.map((property) => [property.displayName, property.newValue])),
    });
    return finish(disables ? "Disable" : "Update", "Success");
  } catch (error) {
    if (error instanceof MappingEvaluationError) {
      step({
        name: "EntryExport",
        type: "Export",
        status: "failure",
        description: "An attribute mapping could not be evaluated for this user",
        details: Object.fromEntries(error.problems.map((problem) => [problem.target, problem.message])),
      });
      return finish(record.targetIdentity.id ? "Update" : "Create", "Failure", {
        errorCode: "AttributeMappingFailed",
        errorCategory: "nonServiceFailure",
        reason: error.message,
        recommendedAction:
          "Correct the expression in Mappings (the expression editor previews it against this user), then retry.",
      });
    }
    return record.failRequest(record.targetIdentity.id ? "Update" : "Create", error);
  }
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

function describeOutOfScope(
  scope: string,
  entitlement: { assigned: boolean; hasRequiredRole: boolean },
  filterInScope: boolean,
): string {
  if (scope !== "All" && !entitlement.assigned) return "The user is not assigned to the Dialpad application";
  if (scope !== "All" && !entitlement.hasRequiredRole)
    return "The user is assigned with Default Access only, which is excluded from provisioning";
  if (!filterInScope) return "The user does not match the scoping filter";
  return "The user is out of scope";
}
