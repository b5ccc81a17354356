import { GraphAuthError, GraphError, type GraphGroup, type GraphUser } from "../graph";
import { describeScimError, eq, expectSingleMatch, isScimError, type ScimClient } from "../scim";
import {
  evaluateCandidate,
  planObject,
  type Entitlement,
  type Evaluation,
  type LookupRequest,
  type ObjectType,
  type PlanContext,
  type PlannedOperation,
  type SourceCandidate,
  type TargetLookup,
} from "./plan";
import type { ObjectLinkRecord } from "./ports";
import { toEntraGroup, toEntraUser } from "./source";

/*
 * Deciding about one object, shared by every path that provisions (cycle planning, on demand, Why?,
 * replay): the source object as a candidate, its entitlement, and what Dialpad holds for it.
 */

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

export const NO_ENTITLEMENT: Entitlement = {
  entitled: false,
  via: [],
  explanation: "The object is not assigned to the Dialpad application",
  defaultAccessOnly: false,
};

/** 401/403 from Dialpad or any Graph authentication failure stops the cycle and quarantines the job. */
export function asQuarantine(error: unknown): QuarantineException | null {
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

export async function graphOrQuarantine<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asQuarantine(error) ?? error;
  }
}

export function toCandidate(
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

export async function resolveTarget(
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

export interface ObjectDecision {
  evaluation: Evaluation;
  /** What Dialpad holds for the object, when it had to be read. */
  lookup: TargetLookup | null;
  operation: PlannedOperation;
}

/**
 * The one decision path for an object, whoever asks (a cycle, on demand, Why?, replay): scope from its
 * entitlement and the scoping filter, a read of Dialpad when the link cannot decide (always, when
 * `verifyTarget`), and the planned operation. Throws QuarantineException when the credentials are
 * unusable; every other failure is a planned "fail".
 */
export async function decideObject(
  candidate: SourceCandidate,
  link: ObjectLinkRecord | null,
  context: PlanContext & { scim: ScimClient; verifyTarget?: boolean },
): Promise<ObjectDecision> {
  const evaluation = evaluateCandidate(candidate, link, context.engine, {
    verifyTarget: context.verifyTarget ?? false,
  });
  const lookup = evaluation.lookup
    ? await resolveTarget(context.scim, candidate.objectType, evaluation.lookup)
    : null;
  return { evaluation, lookup, operation: planObject(evaluation, lookup, context) };
}
