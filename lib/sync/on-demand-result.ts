import type {
  Identity,
  ModifiedProperty,
  OnDemandResult,
  ProvisioningAction,
  ProvisioningStatus,
  ProvisioningStep,
  StatusInfo,
} from "./on-demand-types";

import { describeScimError, ScimError } from "../scim";
import type { ScopeEvaluation } from "./ports";

const SOURCE_SYSTEM = { name: "Microsoft Entra ID" };
const TARGET_SYSTEM = { name: "Dialpad" };

/**
 * Collects what happens to one object during on-demand provisioning (steps, identities, modified
 * properties) and turns it into Entra's provisionOnDemand result when the object is done.
 */
export class OnDemandRecorder {
  readonly steps: ProvisioningStep[] = [];
  sourceIdentity: Identity;
  targetIdentity: Identity;
  modifiedProperties: ModifiedProperty[] = [];
  private readonly startTime: string;

  constructor(
    objectType: Identity["type"],
    objectId: string,
    private readonly changeId: string,
    private readonly now: () => Date,
  ) {
    this.startTime = now().toISOString();
    this.sourceIdentity = { id: objectId, type: objectType, displayName: null };
    this.targetIdentity = { id: null, type: objectType, displayName: null };
  }

  step(entry: Omit<ProvisioningStep, "timestamp">): void {
    this.steps.push({ ...entry, timestamp: this.now().toISOString() });
  }

  finish(
    action: ProvisioningAction,
    status: ProvisioningStatus,
    statusInfo: Omit<StatusInfo, "status"> = {},
  ): OnDemandResult {
    return {
      action,
      status,
      changeId: this.changeId,
      logId: null,
      startTime: this.startTime,
      endTime: this.now().toISOString(),
      reportableIdentifier:
        (this.sourceIdentity.details?.userPrincipalName as string | undefined) ??
        this.sourceIdentity.displayName,
      sourceIdentity: this.sourceIdentity,
      targetIdentity: this.targetIdentity,
      sourceSystem: SOURCE_SYSTEM,
      targetSystem: TARGET_SYSTEM,
      modifiedProperties: this.modifiedProperties,
      provisioningSteps: this.steps,
      statusInfo: { status, ...statusInfo },
    };
  }

  /** A failed request to Dialpad: a failure step naming the request, and the result Entra would give. */
  failRequest(action: ProvisioningAction, error: unknown): OnDemandResult {
    const failure = describeRequestFailure(error);
    this.step({
      name: "EntryExport",
      type: "Export",
      status: "failure",
      description: "The request to Dialpad failed",
      details: failure.details,
    });
    return this.finish(action, "Failure", failure.statusInfo);
  }
}

/** What a failed Dialpad request tells an admin: the error code, the request, and what to do. */
export function describeRequestFailure(error: unknown): {
  details: Record<string, unknown>;
  statusInfo: Omit<StatusInfo, "status">;
} {
  const described = describeScimError(error);
  return {
    details: {
      errorCode: described.errorCode,
      ...(error instanceof ScimError
        ? { request: `${error.request.method} ${error.request.url}`, status: error.status ?? "no response" }
        : {}),
    },
    statusInfo: {
      errorCode: described.errorCode,
      errorCategory: described.errorCategory,
      reason: described.reason,
      recommendedAction: described.recommendedAction,
    },
  };
}

/** Each scoping clause as Entra's on-demand view lists it: "{filter}: {attribute} {operator} {values}". */
export function scopeClauseDetails(scope: ScopeEvaluation): Record<string, string> {
  return Object.fromEntries(
    scope.groups.flatMap((group) =>
      group.clauses.map((clause) => [
        `${group.name}: ${clause.attribute} ${clause.operator} ${clause.values.join(", ")}`.trim(),
        `${clause.matched ? "true" : "false"} (value: ${clause.actual === undefined || clause.actual === null ? "null" : JSON.stringify(clause.actual)})`,
      ]),
    ),
  );
}

const MEMBER_PROPERTIES = new Set(["members (added)", "members (removed)"]);

/** How the admin knows a member: "Display Name (upn)", or whichever of the two exists. */
function memberLabel(member: OnDemandResult): string {
  const upn = member.reportableIdentifier;
  const name = member.sourceIdentity.displayName;
  if (name && upn && name !== upn) return `${name} (${upn})`;
  return upn ?? name ?? member.sourceIdentity.id ?? "";
}

/**
 * A group's result lists the members it added to or removed from the Dialpad group by their Dialpad
 * ids, which mean nothing to the admin; this names them after the members' own results. An id no
 * member result explains stays as it is.
 */
export function nameGroupMembers(group: OnDemandResult, members: readonly OnDemandResult[]): OnDemandResult {
  const labels = new Map<string, string>();
  for (const member of members) {
    if (member.targetIdentity.id) labels.set(member.targetIdentity.id, memberLabel(member));
  }
  const name = (value: unknown): unknown =>
    typeof value === "string"
      ? value
          .split(", ")
          .map((id) => labels.get(id) ?? id)
          .join(", ")
      : value;
  return {
    ...group,
    modifiedProperties: group.modifiedProperties.map((property) =>
      MEMBER_PROPERTIES.has(property.displayName)
        ? { ...property, oldValue: name(property.oldValue), newValue: name(property.newValue) }
        : property,
    ),
  };
}
