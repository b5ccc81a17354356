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
import { LOOKUP_CONCURRENCY, mapWithConcurrency } from "./concurrency";
import { toEntraGroup, toEntraUser } from "./source";
import type { IndexedLookup, MatchingCandidate, TargetIndex } from "./target-index";

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
      request: isScimError(error) ? `${error.request.method} ${error.request.url}` : undefined,
    };
  }
}

export interface ObjectDecision {
  evaluation: Evaluation;
  /** What Dialpad holds for the object, when it had to be read. */
  lookup: TargetLookup | null;
  operation: PlannedOperation;
}

export interface DecisionContext extends PlanContext {
  scim: ScimClient;
  /** Read Dialpad even when the link says nothing changed (on demand, Why?, replay). */
  verifyTarget?: boolean;
  /**
   * A listing of Dialpad taken at the start of the cycle (lib/sync/target-index.ts): matches and linked
   * resources are read from it in one query per batch instead of a request per object.
   */
  target?: {
    index: TargetIndex;
    /** Linked target ids the listing does not hold: the linked resource was deleted in Dialpad. */
    missingTargetIds: ReadonlySet<string>;
  };
}

/**
 * The one decision path for objects, whoever asks (a cycle, on demand, Why?, replay): scope from the
 * entitlement and the scoping filter, a read of Dialpad when the link cannot decide, and the planned
 * operation. Reads go to the cycle's target listing when there is one, else one request each, a few at
 * once. Throws QuarantineException when the credentials are unusable; every other failure is a "fail".
 */
export async function decideObjects(
  objects: readonly { candidate: SourceCandidate; link: ObjectLinkRecord | null }[],
  context: DecisionContext,
): Promise<ObjectDecision[]> {
  const { target } = context;
  const evaluations = objects.map(({ candidate, link }) =>
    evaluateCandidate(candidate, link, context.engine, {
      // With a listing of Dialpad (a full cycle), every linked object is compared with what Dialpad holds,
      // as Why? and on demand do and as Entra's initial cycle does: the link's hash only says what was
      // sent, not whether someone changed it in Dialpad since. The comparison costs no request.
      verifyTarget: (context.verifyTarget ?? false) || target !== undefined,
    }),
  );
  const lookups: (TargetLookup | null)[] = evaluations.map(() => null);
  const viaRequests: number[] = [];
  if (target) {
    const asked = evaluations.flatMap((evaluation, index) => (evaluation.lookup ? [index] : []));
    const answers = await target.index.lookup(
      asked.map((index) => snapshotCandidates(evaluations[index]!.lookup!, target.missingTargetIds)),
    );
    for (const [position, index] of asked.entries()) {
      const lookup = fromSnapshot(evaluations[index]!.lookup!, answers[position]!, target.missingTargetIds);
      if (lookup) lookups[index] = lookup;
      else viaRequests.push(index);
    }
  } else {
    for (const [index, evaluation] of evaluations.entries()) if (evaluation.lookup) viaRequests.push(index);
  }
  await mapWithConcurrency(viaRequests, LOOKUP_CONCURRENCY, async (index) => {
    lookups[index] = await resolveTarget(
      context.scim,
      objects[index]!.candidate.objectType,
      evaluations[index]!.lookup!,
    );
  });
  return evaluations.map((evaluation, index) => ({
    evaluation,
    lookup: lookups[index] ?? null,
    operation: planObject(evaluation, lookups[index] ?? null, context),
  }));
}

/** One object's decision (on demand, Why?, replay). */
export async function decideObject(
  candidate: SourceCandidate,
  link: ObjectLinkRecord | null,
  context: DecisionContext,
): Promise<ObjectDecision> {
  const [decision] = await decideObjects([{ candidate, link }], context);
  return decision!;
}

/** What to ask the listing: the linked id first (unless it is known gone), then the matching attributes. */
function snapshotCandidates(lookup: LookupRequest, missing: ReadonlySet<string>): MatchingCandidate[] {
  const linked =
    lookup.by === "id" && !missing.has(lookup.targetId)
      ? [{ targetAttribute: "id", value: lookup.targetId }]
      : [];
  return [...linked, ...lookup.matching];
}

/** The listing's answer as a TargetLookup; null when only a request can answer (an unindexed attribute). */
function fromSnapshot(
  lookup: LookupRequest,
  answer: IndexedLookup,
  missing: ReadonlySet<string>,
): TargetLookup | null {
  const linkedGone = lookup.by === "id" && missing.has(lookup.targetId);
  switch (answer.status) {
    case "found": {
      const byLink = lookup.by === "id" && answer.resource.id === lookup.targetId;
      return {
        status: "found",
        resource: answer.resource,
        matchedBy: byLink ? `linked id ${lookup.targetId}` : answer.matchedBy,
        ...(linkedGone ? { relinked: true } : {}),
      };
    }
    case "absent":
      return {
        status: "absent",
        tried: lookup.matching.map((m) => `${m.targetAttribute} = ${m.value}`),
        linkedGone,
      };
    case "ambiguous":
      return {
        status: "failed",
        error: {
          errorCode: "DuplicateTargetEntries",
          errorCategory: "nonServiceFailure",
          reason: `More than one Dialpad resource matches ${answer.matchedBy} (${answer.targetIds.length} found), so the object cannot be matched.`,
          recommendedAction:
            "Remove the duplicate in Dialpad, or change the matching attributes in Mappings.",
        },
      };
    case "unindexed":
      return null;
  }
}
