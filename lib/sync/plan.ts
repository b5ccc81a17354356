import type { ScimPatchOperation, ScimResourceInput } from "../scim";
import { MappingEvaluationError } from "./mapping-adapter";
import type { ModifiedProperty, ProvisioningAction, ProvisioningStep, StatusInfo } from "./on-demand-types";
import { scopeClauseDetails } from "./on-demand-result";
import type { ObjectLinkRecord, ObjectMappingEngine, ScopeEvaluation } from "./ports";

/**
 * Planning of a provisioning cycle, as pure functions: what Entra would do to each object, decided from
 * the source object, its scope, its link to Dialpad and (only when the link cannot decide) the current
 * Dialpad resource. The plan is data, so a dry run can show it, the accidental-deletion check can count
 * it before anything is sent, and future cycle units can execute slices of it.
 */

export type ObjectType = "User" | "Group";
export type CycleType = "initial" | "incremental";

export interface Entitlement {
  /** Assigned with a role other than Default Access (directly or through a directly assigned group), or scope "All". */
  entitled: boolean;
  /** "direct", "group:<id>", "sync all"; empty when not assigned. */
  via: string[];
  /** One sentence for the log when not entitled. */
  explanation: string;
  /** Assigned, but only with Default Access: worth a log entry, unlike an object nobody assigned. */
  defaultAccessOnly: boolean;
}

/** One source object the cycle looks at, and why. */
export interface SourceCandidate {
  objectType: ObjectType;
  sourceId: string;
  displayName: string | null;
  /** Attributes under Entra's names, as mappings read them; null when only the id is known (deleted in Entra). */
  source: Record<string, unknown> | null;
  /** Graph delta `@removed`: "changed" = soft-deleted, "deleted" = hard-deleted. */
  removed?: "changed" | "deleted";
  accountDisabled: boolean;
  entitlement: Entitlement;
  /**
   * import: initial read; delta: changed since the watermark; assignment: entitlement changed without a
   * delta; escrow: due retry; held: re-evaluated held deletion; link: linked object that lost its assignment.
   */
  origin: "import" | "delta" | "assignment" | "escrow" | "held" | "link" | "on-demand";
}

export interface PlanContext {
  objectType: ObjectType;
  engine: ObjectMappingEngine;
  actions: { create: boolean; update: boolean; delete: boolean };
  cycleType: CycleType;
  /** ISO time stamped on the steps. */
  now: string;
  /** Entra's SkipOutOfScopeDeletions: objects that leave scope are left as they are in Dialpad. */
  skipOutOfScopeDeletions?: boolean;
}

export type LookupRequest =
  | { by: "id"; targetId: string; matching: { targetAttribute: string; value: string }[] }
  | { by: "match"; matching: { targetAttribute: string; value: string }[] };

export type TargetLookup =
  | {
      status: "found";
      resource: Readonly<Record<string, unknown>> & { id: string };
      matchedBy: string;
      /** The linked resource was gone (404) and this one was found by matching instead. */
      relinked?: boolean;
    }
  | { status: "absent"; tried: string[]; linkedGone?: boolean }
  | {
      status: "failed";
      error: Omit<StatusInfo, "status">;
      /** The Dialpad request that failed ("GET https://…"), when a request failed. */
      request?: string;
    };

export interface Evaluation {
  candidate: SourceCandidate;
  link: ObjectLinkRecord | null;
  inScope: boolean;
  scope: ScopeEvaluation | null;
  desiredHash: string | null;
  /** What the resolver must read from Dialpad before the object can be planned; null = nothing. */
  lookup: LookupRequest | null;
}

export type PlannedKind = "create" | "update" | "disable" | "delete" | "skip" | "fail";

export interface LinkAfter {
  targetId: string | null;
  exportedHash: string | null;
  active: boolean;
}

export interface PlannedOperation {
  kind: PlannedKind;
  /** Provisioning-log action when it runs (Other for skips). */
  action: ProvisioningAction;
  objectType: ObjectType;
  sourceId: string;
  displayName: string | null;
  targetId: string | null;
  reason: string;
  operations?: ScimPatchOperation[];
  resource?: ScimResourceInput;
  modifiedProperties: ModifiedProperty[];
  /**
   * The link once the operation succeeded: an object to save (targetId null = the id the create returns),
   * null to remove the link, undefined to leave it as it is.
   */
  link?: LinkAfter | null;
  /** Skips and failures found while planning carry their log status here. */
  statusInfo?: Omit<StatusInfo, "status">;
  /** Whether a provisioning-log entry is worth writing (see `shouldLogSkip`). */
  log: boolean;
  steps: ProvisioningStep[];
  /** A group's new Entra name that is not sent, because Dialpad refuses group renames. */
  renameRefused?: string;
}

export interface CyclePlanSummary {
  create: number;
  update: number;
  disable: number;
  delete: number;
  skip: number;
  fail: number;
}

/**
 * Scope and the Dialpad read an object needs, decided from the source, the link and the hash alone.
 * `verifyTarget` (on demand, Why?, replay) reads Dialpad even when the link says nothing changed, so a
 * user deleted or disabled in Dialpad behind Entra's back is seen; cycles trust the link.
 */
export function evaluateCandidate(
  candidate: SourceCandidate,
  link: ObjectLinkRecord | null,
  engine: ObjectMappingEngine,
  options: { verifyTarget?: boolean } = {},
): Evaluation {
  const base = { candidate, link };
  // Out of scope but linked: only a verifying caller reads the linked resource (gone? already disabled?).
  const outOfScopeLookup: LookupRequest | null =
    options.verifyTarget && link && link.active ? { by: "id", targetId: link.targetId, matching: [] } : null;
  if (candidate.removed || !candidate.source || !candidate.entitlement.entitled) {
    const scope = candidate.source && !candidate.removed ? engine.scope(candidate.source) : null;
    return { ...base, inScope: false, scope, desiredHash: null, lookup: outOfScopeLookup };
  }
  const scope = engine.scope(candidate.source);
  if (!scope.inScope) return { ...base, inScope: false, scope, desiredHash: null, lookup: outOfScopeLookup };
  const desiredHash = engine.desiredHash(candidate.source);
  // The no-change fast path: the link says Dialpad already holds exactly this state, so no request at all.
  if (!options.verifyTarget && link && link.exportedHash !== null && link.exportedHash === desiredHash) {
    return { ...base, inScope: true, scope, desiredHash, lookup: null };
  }
  const matching = engine.matching(candidate.source);
  const lookup: LookupRequest = link
    ? { by: "id", targetId: link.targetId, matching }
    : { by: "match", matching };
  return { ...base, inScope: true, scope, desiredHash, lookup };
}

const UPDATE_OFF = "EntrySynchronizationSkipped";

/** Decides the operation for one evaluated object. Pure: the lookup result is an input. */
export function planObject(
  evaluation: Evaluation,
  lookup: TargetLookup | null,
  context: PlanContext,
): PlannedOperation {
  const { candidate, link } = evaluation;
  const steps = baseSteps(evaluation, context);
  const noun = candidate.objectType === "User" ? "user" : "group";
  const op = (fields: Omit<PlannedOperation, "objectType" | "sourceId" | "displayName" | "steps">) => ({
    objectType: candidate.objectType,
    sourceId: candidate.sourceId,
    displayName: candidate.displayName ?? link?.displayName ?? null,
    steps,
    ...fields,
  });
  const skip = (
    reason: string,
    statusInfo: Omit<StatusInfo, "status">,
    log: boolean,
    extra: Partial<PlannedOperation> = {},
  ): PlannedOperation =>
    op({
      kind: "skip",
      action: "Other",
      targetId: link?.targetId ?? null,
      reason,
      modifiedProperties: [],
      statusInfo: { ...statusInfo, reason: statusInfo.reason ?? reason },
      log,
      ...extra,
    });

  /*
   * SkipOutOfScopeDeletions covers what Entra calls going out of scope: unassigned from the app, or no
   * longer matching the scoping filter. A user soft-deleted or hard-deleted in Entra is not out of scope
   * in that sense (it is disabled through the active/IsSoftDeleted mapping, or deleted by the Delete
   * action), and neither is one blocked from sign-in (accountEnabled false, the active mapping's other
   * trigger), so those are still disabled or deleted, even when they left scope in the same cycle.
   * The link is kept, as Entra keeps its anchors until a full restart: when the object is assigned
   * again it is updated by its linked id instead of being matched anew. Its hash is cleared, so the
   * skip is logged once rather than every cycle, and the object is compared with Dialpad again when it
   * comes back. The account stays; the user does leave the Dialpad groups this connection manages,
   * since an out-of-scope user is no member reference Entra provisions.
   */
  const skipOutOfScopeDeletion = (why: string): PlannedOperation => {
    const linked = link!;
    return skip(
      `${why}; SkipOutOfScopeDeletions is set, so it stays ${candidate.objectType === "User" ? "active " : ""}in Dialpad`,
      {
        errorCode: "EntrySynchronizationSkipped",
        errorCategory: "nonServiceFailure",
        reason: `The ${noun} went out of scope, and SkipOutOfScopeDeletions is set, so it was not ${
          candidate.objectType === "User" ? "disabled" : "deleted"
        } in Dialpad.`,
        recommendedAction:
          "Nothing to do if this is intended. To deprovision objects that leave scope, clear Skip deletion of user accounts that go out of scope in Provisioning settings.",
      },
      linked.exportedHash !== null || candidate.origin === "delta" || candidate.origin === "on-demand",
      { link: { targetId: linked.targetId, exportedHash: null, active: linked.active } },
    );
  };

  // Hard-deleted in Entra: DELETE when the Delete target action is on, else the soft-delete path.
  if (candidate.removed === "deleted" && link && context.actions.delete) {
    return op({
      kind: "delete",
      action: "Delete",
      targetId: link.targetId,
      reason: `The ${noun} was permanently deleted in Microsoft Entra ID`,
      modifiedProperties: [],
      link: null,
      log: true,
    });
  }

  if (!evaluation.inScope) {
    const why = outOfScopeReason(evaluation);
    if (!link) {
      const worthLogging =
        (candidate.origin === "import" || candidate.origin === "delta" || candidate.origin === "on-demand") &&
        !candidate.removed &&
        (candidate.entitlement.entitled || candidate.entitlement.defaultAccessOnly);
      return skip(
        `${why}; it is not in Dialpad, so nothing was done`,
        { errorCode: "EntrySynchronizationSkipped", errorCategory: "nonServiceFailure" },
        worthLogging,
      );
    }
    if (!link.active)
      return skip(`${why}; it is already disabled in Dialpad`, { errorCode: "RedundantExport" }, false);
    // Read by a verifying caller: the linked resource may be gone, or disabled by someone else already.
    if (lookup?.status === "absent")
      return skip(
        `${why}; it is no longer in Dialpad, so nothing was done`,
        { errorCode: "EntrySynchronizationSkipped", errorCategory: "nonServiceFailure" },
        true,
        { link: null },
      );
    if (lookup?.status === "found" && candidate.objectType === "User" && isInactive(lookup.resource.active))
      return skip(
        `${why}; it is already disabled in Dialpad`,
        {
          errorCode: "RedundantExport",
          reason: "The state of the object in both the source and target systems already match.",
        },
        true,
        { link: { targetId: link.targetId, exportedHash: null, active: false } },
      );
    if (context.skipOutOfScopeDeletions && !candidate.removed && !candidate.accountDisabled)
      return skipOutOfScopeDeletion(why);
    if (candidate.objectType === "Group") {
      // A SCIM group has no "active"; leaving scope removes it from Dialpad, as Entra does.
      if (!context.actions.delete)
        return skip(
          `${why}; Delete is turned off for groups, so it stays in Dialpad`,
          { errorCode: UPDATE_OFF },
          true,
        );
      return op({
        kind: "delete",
        action: "Delete",
        targetId: link.targetId,
        reason: why,
        modifiedProperties: [],
        link: null,
        log: true,
      });
    }
    if (!context.actions.update)
      return skip(
        `${why}; Update is turned off for users, so it stays active in Dialpad`,
        { errorCode: UPDATE_OFF },
        true,
      );
    return op({
      kind: "disable",
      action: "Disable",
      targetId: link.targetId,
      reason: why,
      operations: [{ op: "Replace", path: "active", value: false }],
      modifiedProperties: [{ displayName: "active", oldValue: true, newValue: false }],
      link: { targetId: link.targetId, exportedHash: null, active: false },
      log: true,
    });
  }

  const source = candidate.source!;
  const desiredActive = candidate.objectType === "Group" || !candidate.accountDisabled;
  if (!evaluation.lookup) {
    return skip(
      `The ${noun} in Dialpad already matches Microsoft Entra ID`,
      {
        errorCode: "RedundantExport",
        reason: "The state of the object in both the source and target systems already match.",
      },
      context.cycleType === "initial" || candidate.origin === "delta" || candidate.origin === "on-demand",
    );
  }
  if (!lookup) throw new Error(`No Dialpad lookup result for ${candidate.objectType} ${candidate.sourceId}`);
  if (lookup.status === "failed") {
    return op({
      kind: "fail",
      action: link ? "Update" : "Create",
      targetId: link?.targetId ?? null,
      reason: lookup.request
        ? `The request to Dialpad failed (${lookup.request})`
        : (lookup.error.reason ?? `Could not look the ${noun} up in Dialpad`),
      modifiedProperties: [],
      statusInfo: lookup.error,
      log: true,
    });
  }
  steps.push({
    name: "EntryImportByMatch",
    type: "Matching",
    status: "success",
    description:
      lookup.status === "found"
        ? `Matched a Dialpad ${noun} by ${lookup.matchedBy}`
        : lookup.linkedGone
          ? `The linked Dialpad ${noun} no longer exists and none matches`
          : `No matching ${noun} was found in Dialpad`,
    details: {
      "Matching attributes": lookup.status === "absent" ? lookup.tried.join("; ") || "—" : lookup.matchedBy,
    },
    timestamp: context.now,
  });

  try {
    if (lookup.status === "absent") {
      const matching = evaluation.lookup.matching;
      if (matching.length === 0) {
        return op({
          kind: "fail",
          action: "Create",
          targetId: null,
          reason: `The ${noun} has no value for any matching attribute`,
          modifiedProperties: [],
          statusInfo: {
            errorCode: "ImportSkipped",
            errorCategory: "nonServiceFailure",
            reason: `None of the matching attributes has a value for this ${noun}, so it cannot be looked up in Dialpad.`,
            recommendedAction:
              "Give the object a value for the matching attribute, or change the matching attributes in Mappings.",
          },
          log: true,
        });
      }
      if (!context.actions.create)
        return skip(
          `Create is turned off for ${noun}s; the ${noun} was not created`,
          { errorCode: UPDATE_OFF },
          true,
        );
      const { resource, exported } = context.engine.createResource(source);
      return op({
        kind: "create",
        action: "Create",
        targetId: null,
        reason: lookup.linkedGone
          ? `The linked Dialpad ${noun} no longer exists; it is created again`
          : `The ${noun} is in scope and not in Dialpad`,
        resource,
        modifiedProperties: exported,
        link: { targetId: null, exportedHash: evaluation.desiredHash, active: desiredActive },
        log: true,
      });
    }

    const current = lookup.resource;
    const linkAfter: LinkAfter = {
      targetId: current.id,
      exportedHash: evaluation.desiredHash,
      active: desiredActive,
    };
    const patch = context.engine.patch(source, current);
    let operations = patch.operations;
    let modified = patch.modified;
    let renameRefused: string | null = null;
    if (candidate.objectType === "Group") {
      // Dialpad refuses group renames (Entra's Dialpad tutorial, "Connector limitations").
      const rename = operations.find((operation) => operation.path?.toLowerCase() === "displayname");
      if (rename) {
        renameRefused = String(rename.value);
        operations = operations.filter((operation) => operation !== rename);
        modified = modified.filter((property) => property.displayName.toLowerCase() !== "displayname");
      }
    }
    if (operations.length === 0) {
      if (renameRefused !== null) {
        return skip(
          `Dialpad does not support renaming groups; the new name "${renameRefused}" was not sent and the group keeps its name "${String(current.displayName ?? "")}" in Dialpad`,
          { errorCode: "GroupRenameNotSupported", errorCategory: "nonServiceFailure" },
          true,
          { link: linkAfter, targetId: current.id, renameRefused },
        );
      }
      return skip(
        `The ${noun} in Dialpad already matches Microsoft Entra ID`,
        {
          errorCode: "RedundantExport",
          reason: "The state of the object in both the source and target systems already match.",
        },
        context.cycleType === "initial" || candidate.origin === "delta" || candidate.origin === "on-demand",
        { link: linkAfter, targetId: current.id },
      );
    }
    if (!context.actions.update) {
      return skip(
        `Update is turned off for ${noun}s; the differences were not sent`,
        { errorCode: UPDATE_OFF },
        true,
        {
          link: {
            targetId: current.id,
            exportedHash: link?.exportedHash ?? null,
            active: link?.active ?? true,
          },
          targetId: current.id,
        },
      );
    }
    const disables = operations.some(
      (operation) =>
        operation.path === "active" && (operation.value === false || operation.value === "False"),
    );
    return op({
      kind: disables && candidate.objectType === "User" ? "disable" : "update",
      action: disables && candidate.objectType === "User" ? "Disable" : "Update",
      targetId: current.id,
      reason:
        (disables ? "The user is disabled in Microsoft Entra ID" : `Attributes of the ${noun} changed`) +
        (renameRefused !== null
          ? `; the rename to "${renameRefused}" was not sent (Dialpad does not support group renames)`
          : ""),
      operations,
      modifiedProperties: modified,
      link: linkAfter,
      log: true,
      ...(renameRefused !== null ? { renameRefused } : {}),
    });
  } catch (error) {
    if (!(error instanceof MappingEvaluationError)) throw error;
    return op({
      kind: "fail",
      action: lookup.status === "found" ? "Update" : "Create",
      targetId: lookup.status === "found" ? lookup.resource.id : null,
      reason: error.message,
      modifiedProperties: [],
      statusInfo: {
        errorCode: "AttributeMappingFailed",
        errorCategory: "nonServiceFailure",
        reason: error.message,
        recommendedAction:
          "Correct the expression in Mappings (the expression editor previews it against this object), then retry.",
      },
      log: true,
    });
  }
}

function isInactive(active: unknown): boolean {
  return active === false || (typeof active === "string" && active.toLowerCase() === "false");
}

function outOfScopeReason(evaluation: Evaluation, options: { clauses?: boolean } = {}): string {
  const { candidate, scope } = evaluation;
  const noun = candidate.objectType === "User" ? "user" : "group";
  if (candidate.removed === "changed") return `The ${noun} was deleted in Microsoft Entra ID (soft delete)`;
  if (candidate.removed === "deleted") return `The ${noun} was permanently deleted in Microsoft Entra ID`;
  if (!candidate.entitlement.entitled) return candidate.entitlement.explanation;
  if (scope && !scope.inScope) {
    const failed = scope.groups
      .flatMap((group) =>
        group.clauses.filter((clause) => !clause.matched).map((clause) => ({ group: group.name, clause })),
      )
      .map(({ group, clause }) =>
        `${group ? `${group}: ` : ""}${clause.attribute} ${clause.operator} ${clause.values.join(", ")}`.trim(),
      );
    if (options.clauses === false) return `The ${noun} does not match the scoping filter`;
    return `The ${noun} does not match the scoping filter (${failed.join("; ") || "no filter matched"})`;
  }
  return `The ${noun} is out of scope`;
}

function baseSteps(evaluation: Evaluation, context: PlanContext): ProvisioningStep[] {
  const { candidate } = evaluation;
  const noun = candidate.objectType === "User" ? "user" : "group";
  const steps: ProvisioningStep[] = [
    {
      name: "EntryImport",
      type: "Import",
      status: "success",
      description: candidate.source
        ? `Retrieved ${candidate.displayName ?? candidate.sourceId} from Microsoft Entra ID (${candidate.origin})`
        : `Microsoft Entra ID reported the ${noun} as ${candidate.removed === "deleted" ? "permanently deleted" : "deleted"}`,
      details: candidate.source ?? { id: candidate.sourceId },
      timestamp: context.now,
    },
  ];
  const { entitlement } = candidate;
  const syncAll = entitlement.via.includes("sync all");
  steps.push({
    name: "EntrySynchronizationScoping",
    type: "Scoping",
    status: evaluation.inScope ? "success" : "skipped",
    // The clauses that failed are in the details, one entry each, as Entra's on-demand view lists them.
    description: evaluation.inScope
      ? `The ${noun} is in scope`
      : outOfScopeReason(evaluation, { clauses: false }),
    details: {
      "Active in the source system": !candidate.accountDisabled && !candidate.removed,
      "Scope sync all": syncAll,
      [`Assigned to the application`]: syncAll
        ? "not required"
        : entitlement.entitled || entitlement.defaultAccessOnly,
      "Assigned through": entitlement.via.join(", ") || "—",
      [`${noun === "user" ? "User" : "Group"} has the required role`]: syncAll
        ? "not required"
        : entitlement.entitled,
      IsEffectivelyEntitledForProvisioning: entitlement.entitled,
      ...(evaluation.scope ? scopeClauseDetails(evaluation.scope) : {}),
      ScopeEvaluationResult: evaluation.inScope ? "in scope" : "out of scope",
    },
    timestamp: context.now,
  });
  return steps;
}

export function summarizePlan(operations: readonly PlannedOperation[]): CyclePlanSummary {
  const summary: CyclePlanSummary = { create: 0, update: 0, disable: 0, delete: 0, skip: 0, fail: 0 };
  for (const operation of operations) summary[operation.kind] += 1;
  return summary;
}

/**
 * Entra's accidental-deletions prevention: every disable and delete of the cycle counts, and the cycle's
 * total is compared with the threshold ("more than" trips it).
 */
export function exceedsDeletionThreshold(
  operations: readonly PlannedOperation[],
  settings: { preventAccidentalDeletes: boolean; deletionThreshold: number },
): boolean {
  if (!settings.preventAccidentalDeletes) return false;
  return operations.filter(isDeletion).length > settings.deletionThreshold;
}

export function isDeletion(operation: PlannedOperation): boolean {
  return operation.kind === "disable" || operation.kind === "delete";
}

export interface MembershipGroup {
  sourceId: string;
  displayName: string | null;
  /** Direct user members in Entra (source ids). */
  memberIds: readonly string[];
}

export interface PlannedMembership {
  groupSourceId: string;
  displayName: string | null;
  /** User source ids. */
  add: string[];
  remove: string[];
}

/**
 * The member changes of every provisioned group: desired members are the group's direct members that
 * have (or are about to get) a Dialpad account from this connection; what was exported before comes from
 * the stored membership links, so an unchanged group costs no request.
 */
export function planMemberships(input: {
  groups: readonly MembershipGroup[];
  exported: ReadonlyMap<string, ReadonlySet<string>>;
  provisionedUsers: ReadonlySet<string>;
}): PlannedMembership[] {
  const planned: PlannedMembership[] = [];
  for (const group of input.groups) {
    const desired = new Set(group.memberIds.filter((id) => input.provisionedUsers.has(id)));
    const exported = input.exported.get(group.sourceId) ?? new Set<string>();
    const add = [...desired].filter((id) => !exported.has(id)).sort();
    const remove = [...exported].filter((id) => !desired.has(id)).sort();
    if (add.length || remove.length)
      planned.push({ groupSourceId: group.sourceId, displayName: group.displayName, add, remove });
  }
  return planned;
}

/** Retry schedule of an escrowed object, by attempts so far: next cycle, then +1 h, +6 h, +24 h. */
export function escrowRetryAt(attempts: number, now: Date): Date {
  const delays = [0, 60, 360, 1440];
  const minutes = delays[Math.min(Math.max(attempts, 1), delays.length) - 1] ?? 1440;
  return new Date(now.getTime() + minutes * 60_000);
}
