import type { Connection, Prisma, PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import { GraphError, type GraphClient } from "../graph";
import type { JobLease } from "../jobs/lease";
import {
  backstopReason,
  cycleIsLive,
  keepStartedFeeds,
  recordPoll,
  type PollResult,
} from "../cycle/continuous";
import { queueCycleNow } from "../cycle/schedule";
import {
  nextPollDelayMs,
  pollBackoff,
  probeChanges,
  startFeeds,
  watchedFeeds,
  type PollPacing,
} from "../sync/change-probe";
import { loadMappingConfig } from "./mappings";
import { graphClientFor } from "./peers";

export interface PollOptions {
  lease?: JobLease;
  log?: { info(fields: Record<string, unknown>, message: string): void };
  pacing?: PollPacing;
  now?: () => Date;
}

/**
 * One poll of a continuous connection (a provisioning-poll job): asks Graph's change feeds whether
 * anything changed and queues a cycle if so. Its only writes (the poll's row fields, the cycle job) go
 * in one transaction fenced by the job's lease, so a poll that lost its lease, or a worker killed
 * mid-poll, leaves nothing half-done: the retried poll reads the same feeds again.
 */
export async function runPoll(
  db: PrismaClient,
  box: SecretBox,
  input: { connectionId: string },
  options: PollOptions = {},
): Promise<PollResult> {
  const now = options.now ?? (() => new Date());
  const connection = await db.connection.findUnique({ where: { id: input.connectionId } });
  if (
    !connection ||
    connection.scheduleMode !== "continuous" ||
    connection.paused ||
    !connection.provisioningEnabled
  )
    return { next: "none" };
  // A cycle queued or running (Start, Restart) reads the same feeds; its end queues the next poll.
  if (await cycleIsLive(db, connection.id)) return { next: "cycle" };
  const fenced = <T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> =>
    options.lease ? options.lease.fenced(work) : db.$transaction(work);

  // Quarantine: the retry is a cycle whatever the feeds say (it is how a fixed connection is noticed),
  // and it waits for the quarantine's next attempt as interval mode does.
  if (connection.quarantineReason) {
    const waitMs = (connection.quarantineNextAttempt?.getTime() ?? 0) - now().getTime();
    if (waitMs > 0) return { next: "poll", delayMs: waitMs };
    await fenced(async (tx) => {
      await recordPoll(tx, connection.id, {
        succeeded: true,
        graphRequests: 0,
        change: { seenAt: now(), digest: null },
      });
      await queueCycleNow(tx, connection.id, { changeSeenAt: now(), trigger: "quarantine-retry" });
    });
    return { next: "cycle" };
  }

  const config = loadMappingConfig(connection.mappings);
  let graphRequests = 0;
  const graph = graphClientFor(connection, box, { onRequest: () => (graphRequests += 1) });
  let probe;
  try {
    probe = await probeChanges(graph, {
      usersDeltaLink: connection.usersDeltaLink,
      groupsDeltaLink: connection.groupsDeltaLink,
      membersDeltaLink: connection.membersDeltaLink,
      assignmentsDeltaLink: connection.assignmentsDeltaLink,
      servicePrincipalId: connection.graphServicePrincipalId,
      scope: connection.scope === "All" ? "All" : "AssignedOnly",
      groupsEnabled: config.groups.enabled,
      lastDigest: connection.pollChangeDigest,
    });
  } catch (error) {
    const backoffMs = pollBackoff(error, connection.lastPollError ? 1 : 0);
    if (backoffMs !== null) {
      await fenced((tx) =>
        recordPoll(tx, connection.id, { succeeded: false, graphRequests, error: describePollError(error) }),
      );
      return { next: "poll", delayMs: backoffMs };
    }
    // A feed Graph no longer accepts is read again from now, and a cycle closes the gap (as on a first poll).
    if (error instanceof GraphError && (error.resyncRequired || error.code === "syncStateNotFound")) {
      const seenAt = now();
      await fenced(async (tx) => {
        await recordPoll(tx, connection.id, {
          succeeded: true,
          graphRequests,
          membersDeltaLink: null,
          assignmentsDeltaLink: null,
          change: { seenAt, digest: null },
        });
        await queueCycleNow(tx, connection.id, { changeSeenAt: seenAt, trigger: "change" });
      });
      return { next: "cycle" };
    }
    // Anything else (credentials, permissions) is the cycle's to diagnose and quarantine, as in Entra.
    const seenAt = now();
    await fenced(async (tx) => {
      await recordPoll(tx, connection.id, {
        succeeded: false,
        graphRequests,
        error: describePollError(error),
      });
      await queueCycleNow(tx, connection.id, { changeSeenAt: seenAt, trigger: "change" });
    });
    return { next: "cycle" };
  }

  const seenAt = now();
  const backstop = probe.queueCycle ? null : await backstopReason(db, connection.id);
  const { idleStreak } = await fenced(async (tx) => {
    const recorded = await recordPoll(tx, connection.id, {
      succeeded: true,
      graphRequests,
      membersDeltaLink: probe.feeds.membersDeltaLink,
      assignmentsDeltaLink: probe.feeds.assignmentsDeltaLink,
      ...(probe.queueCycle ? { change: { seenAt, digest: probe.digest } } : {}),
    });
    if (probe.queueCycle) await queueCycleNow(tx, connection.id, { changeSeenAt: seenAt, trigger: "change" });
    else if (backstop) await queueCycleNow(tx, connection.id, { trigger: "schedule" });
    return recorded;
  });
  options.log?.info(
    {
      connectionId: connection.id,
      reason: probe.reason,
      seen: probe.seen,
      graphRequests: probe.graphRequests,
    },
    probe.queueCycle ? "continuous poll found changes; cycle queued" : "continuous poll: no change",
  );
  if (backstop)
    options.log?.info({ connectionId: connection.id, backstop }, "continuous poll: backstop cycle queued");
  return probe.queueCycle || backstop
    ? { next: "cycle" }
    : { next: "poll", delayMs: nextPollDelayMs(idleStreak, options.pacing) };
}

function describePollError(error: unknown): string {
  if (error instanceof GraphError)
    return `${error.status ? `${error.status} ` : ""}${error.code}: ${error.message}`.slice(0, 500);
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

/**
 * Called by a continuous connection's cycle before it reads Graph: starts the poll's feeds that are
 * missing (from now), so the first poll after the cycle sees every change made since the cycle's read.
 */
export async function startMissingPollFeeds(
  db: PrismaClient,
  connection: Connection,
  graph: GraphClient,
  lease?: JobLease,
): Promise<void> {
  if (connection.scheduleMode !== "continuous") return;
  const input = {
    scope: connection.scope === "All" ? ("All" as const) : ("AssignedOnly" as const),
    servicePrincipalId: connection.graphServicePrincipalId,
    groupsEnabled: loadMappingConfig(connection.mappings).groups.enabled,
  };
  const watched = watchedFeeds(input);
  if (
    (!watched.assignments || connection.assignmentsDeltaLink) &&
    (!watched.members || connection.membersDeltaLink)
  )
    return;
  const { feeds } = await startFeeds(graph, input, {
    membersDeltaLink: connection.membersDeltaLink,
    assignmentsDeltaLink: connection.assignmentsDeltaLink,
  });
  const work = (tx: Prisma.TransactionClient) => keepStartedFeeds(tx, connection.id, feeds);
  await (lease ? lease.fenced(work) : db.$transaction(work));
}
