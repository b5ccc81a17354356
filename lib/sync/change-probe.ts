import crypto from "node:crypto";
import { GraphError, type GraphClient } from "../graph";

/**
 * Continuous mode's question to Microsoft Graph, asked every few seconds: has anything a cycle would act
 * on changed since the last cycle? It must cost a handful of requests when nothing changed, so it reads
 * change feeds only:
 *
 * - the cycle's own users/delta and groups/delta links, *without* keeping what they return: Graph's
 *   delta tokens are replayable, so the cycle that follows reads the same changes from the same links
 *   (and the links only ever move when a cycle has processed what they showed);
 * - two feeds of the poll's own, which a cycle does not read because it reads the whole state instead:
 *   group memberships (groups/delta with `$select=members`, since the cycle's groups link leaves members
 *   out) and app role assignments (directoryObjects/delta). Their links move with each probe: the cycle
 *   that a change queues reads every assignment and member anyway.
 *
 * The answer is a decision (queue a cycle or not) plus what the poll stores. Which objects changed is
 * left to the cycle: a probe never holds more than a running count and a hash, however large the change.
 */

export interface ChangeFeeds {
  usersDeltaLink: string | null;
  groupsDeltaLink: string | null;
  membersDeltaLink: string | null;
  assignmentsDeltaLink: string | null;
}

export interface ChangeProbeInput extends ChangeFeeds {
  /** The Dialpad app's service principal: assignment changes of other apps are not ours. */
  servicePrincipalId: string | null;
  /** "All" provisions every user whatever the assignments, so their feed is not read. */
  scope: "AssignedOnly" | "All";
  /** Whether groups are provisioned at all (their attribute and member feeds are read only then). */
  groupsEnabled: boolean;
  /** The digest of the changes the last change-triggered cycle was queued for. */
  lastDigest: string | null;
}

export type ProbeReason =
  /** No cycle has left delta links yet (never ran, or a Restart cleared them). */
  | "no-watermark"
  /** The poll's own feeds were just started: a cycle covers what happened before they existed. */
  | "baseline"
  | "changes"
  | "idle";

export interface ChangeProbe {
  reason: ProbeReason;
  queueCycle: boolean;
  /** Objects each feed reported since its link (each object once per page it appears on). */
  seen: { users: number; groups: number; members: number; assignments: number };
  /** Feeds' links to keep (the poll's own feeds only; the cycle's links are never moved here). */
  feeds: Pick<ChangeFeeds, "membersDeltaLink" | "assignmentsDeltaLink">;
  /** What the cycle's feeds showed; the same changes seen again give the same digest. */
  digest: string | null;
  graphRequests: number;
}

const ASSIGNMENT_TYPE = "#microsoft.graph.approleassignment";

export async function probeChanges(graph: GraphClient, input: ChangeProbeInput): Promise<ChangeProbe> {
  let graphRequests = 0;
  const seen = { users: 0, groups: 0, members: 0, assignments: 0 };
  const feeds = {
    membersDeltaLink: input.membersDeltaLink,
    assignmentsDeltaLink: input.assignmentsDeltaLink,
  };
  const result = (reason: ProbeReason, digest: string | null = null): ChangeProbe => ({
    reason,
    queueCycle: reason !== "idle",
    seen,
    feeds,
    digest,
    graphRequests,
  });

  if (!input.usersDeltaLink || (input.groupsEnabled && !input.groupsDeltaLink)) return result("no-watermark");

  // The poll's own feeds first. Cycles start them before reading the assignments, so they miss
  // nothing; one missing here (the mode was switched on meanwhile) is started now, and a cycle closes
  // the gap before it.
  let baseline = false;
  const watched = watchedFeeds(input);
  if ((watched.assignments && !feeds.assignmentsDeltaLink) || (watched.members && !feeds.membersDeltaLink)) {
    const started = await startFeeds(graph, input, feeds);
    Object.assign(feeds, started.feeds);
    graphRequests += started.graphRequests;
    baseline = true;
  }
  if (!baseline && watched.assignments && feeds.assignmentsDeltaLink) {
    for await (const page of graph.appRoleAssignmentsDelta({ deltaLink: feeds.assignmentsDeltaLink })) {
      graphRequests += 1;
      for (const change of page.value) {
        // A removed assignment carries only its id, so it may be another app's; reading it as ours costs
        // at most a cycle that finds nothing to do.
        const ours = change["@removed"] !== undefined || change.resourceId === input.servicePrincipalId;
        const isAssignment =
          String(change["@odata.type"] ?? ASSIGNMENT_TYPE).toLowerCase() === ASSIGNMENT_TYPE;
        if (ours && isAssignment) seen.assignments += 1;
      }
      if (page.deltaLink) feeds.assignmentsDeltaLink = page.deltaLink;
    }
  }
  if (!baseline && watched.members && feeds.membersDeltaLink) {
    for await (const page of graph.groupsDelta({ deltaLink: feeds.membersDeltaLink })) {
      graphRequests += 1;
      for (const group of page.value)
        if (group["members@delta"] !== undefined || group["@removed"] !== undefined) seen.members += 1;
      if (page.deltaLink) feeds.membersDeltaLink = page.deltaLink;
    }
  }

  // The cycle's feeds, read and left where they are.
  const hash = crypto.createHash("sha256");
  hash.update(`${input.usersDeltaLink}\n${input.groupsDeltaLink ?? ""}\n`);
  for await (const page of graph.usersDelta({ deltaLink: input.usersDeltaLink })) {
    graphRequests += 1;
    for (const user of page.value) hash.update(`u${user.id}\n`);
    seen.users += page.value.length;
  }
  if (input.groupsEnabled && input.groupsDeltaLink) {
    for await (const page of graph.groupsDelta({ deltaLink: input.groupsDeltaLink })) {
      graphRequests += 1;
      for (const group of page.value) hash.update(`g${group.id}\n`);
      seen.groups += page.value.length;
    }
  }
  const digest = seen.users + seen.groups > 0 ? hash.digest("hex") : null;

  if (baseline) return result("baseline", digest);
  if (seen.assignments > 0 || seen.members > 0) return result("changes", digest);
  // The same changes as the last cycle was queued for: that cycle could not move the links (it failed,
  // or held its deletions); queuing it again at every poll would repeat it every few seconds.
  if (digest !== null && digest !== input.lastDigest) return result("changes", digest);
  return result("idle", digest);
}

/** Which of the poll's own feeds a connection needs. */
export function watchedFeeds(
  input: Pick<ChangeProbeInput, "scope" | "servicePrincipalId" | "groupsEnabled">,
) {
  const assignments = input.scope === "AssignedOnly" && input.servicePrincipalId !== null;
  // Members matter for provisioned groups, and for who is entitled through an assigned group.
  return { assignments, members: input.groupsEnabled || assignments };
}

/** Starts the poll's feeds that are missing, from now ($deltatoken=latest: one request each, no objects). */
export async function startFeeds(
  graph: GraphClient,
  input: Pick<ChangeProbeInput, "scope" | "servicePrincipalId" | "groupsEnabled">,
  current: Pick<ChangeFeeds, "membersDeltaLink" | "assignmentsDeltaLink">,
): Promise<{ feeds: Pick<ChangeFeeds, "membersDeltaLink" | "assignmentsDeltaLink">; graphRequests: number }> {
  const watched = watchedFeeds(input);
  const feeds = { ...current };
  let graphRequests = 0;
  if (watched.assignments && !feeds.assignmentsDeltaLink) {
    for await (const page of graph.appRoleAssignmentsDelta({ latest: true })) {
      graphRequests += 1;
      if (page.deltaLink) feeds.assignmentsDeltaLink = page.deltaLink;
    }
  }
  if (watched.members && !feeds.membersDeltaLink) {
    for await (const page of graph.groupsDelta({ select: ["members"], latest: true })) {
      graphRequests += 1;
      if (page.deltaLink) feeds.membersDeltaLink = page.deltaLink;
    }
  }
  return { feeds, graphRequests };
}

/** A Graph answer that asks the poll to wait (throttled or unavailable) rather than fail. */
export function pollBackoff(error: unknown, consecutiveErrors: number): number | null {
  if (!(error instanceof GraphError)) return null;
  const transient = error.status === 429 || error.status === 503 || error.status === 504 || error.retryable;
  if (!transient) return null;
  const exponential = Math.min(300_000, 5_000 * 2 ** Math.max(0, consecutiveErrors));
  return Math.max(error.retryAfterMs ?? 0, exponential);
}

export interface PollPacing {
  /** After a poll that found something (and after the cycle it queued). */
  fastMs: number;
  /** The longest pause between polls when nothing changes. */
  idleMaxMs: number;
  /** Growth of the pause per idle poll in a row. */
  factor: number;
}

export const DEFAULT_POLL_PACING: PollPacing = { fastMs: 2_000, idleMaxMs: 15_000, factor: 1.5 };

/** The pause before the next poll: short right after a change, growing while nothing changes. */
export function nextPollDelayMs(idleStreak: number, pacing: PollPacing = DEFAULT_POLL_PACING): number {
  return Math.round(Math.min(pacing.idleMaxMs, pacing.fastMs * pacing.factor ** Math.max(0, idleStreak)));
}
