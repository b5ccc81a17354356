import type { Prisma, PrismaClient } from "../db/generated/client";
import type { ReconcileCounts } from "../contracts/reconcile";
import type { SecretBox } from "../crypto/secrets";
import type { JobLease } from "../jobs/lease";
import { PermanentJobError } from "../jobs/kind";
import { recordScimExchange } from "../metrics/scim-exchanges";
import { createAdaptiveLimiter, type ScimExchange } from "../scim";
import { isReferenceMapping, mappingEngineFor } from "../sync/mapping-adapter";
import { assessLinkedUser, loadEntitlements } from "../sync/reconcile";
import { graphSelectFor, toEntraUser } from "../sync/source";
import { normaliseCandidate } from "../sync/target-index";
import { enqueueWebhookEvent } from "../notify/webhook-events";
import type { Mailer } from "../notify/mailer";
import { alertReconcileFindings } from "./reconcile-alert";
import { getConnection } from "./connections";
import { loadMappingConfig } from "./mappings";
import { graphClientFor, scimClientFor } from "./peers";
import { GROUP_KEY_PREFIX, IN_GROUPS, recordGroupKeys, reportGroupDrift } from "./reconcile-groups";
import { loadRefusalRegistry } from "./refused-attributes";
import { SharedRequestBudget } from "./request-budget";
import { takeTargetSnapshot } from "./target-snapshot-store";

/**
 * Computes one reconcile report on a worker. Memory holds one page at a time: Dialpad is listed into a
 * target snapshot (one INSERT per page of 100), Entra users are read in pages of 999 and compared with
 * their links' snapshot entries page by page, and orphans, missing links and collisions are found with
 * SQL set operations over the snapshot, the links and the Entra users' matching keys. Only the scope
 * "AssignedOnly" keeps something per user in memory: the set of users entitled through a group.
 */

export interface ReconcileRunOptions {
  lease?: JobLease;
  /** Tests: an in-process limiter at this rate instead of the connection's shared request budget. */
  requestsPerSecond?: number;
  log?: {
    info(fields: Record<string, unknown>, message: string): void;
    warn(fields: Record<string, unknown>, message: string): void;
  };
  /** Sends the findings alert; default: the SMTP_* settings' mailer. */
  mailer?: Mailer | null;
}

type FindingRow = Prisma.ReconcileFindingCreateManyInput;

const GRAPH_PAGE_SIZE = 999;
/** The key each Entra user is recorded under to tell "seen in Entra" from "deleted in Entra". */
const SEEN = "objectId";

export async function runReconcile(
  db: PrismaClient,
  box: SecretBox,
  input: { runId: string; connectionId: string },
  options: ReconcileRunOptions = {},
): Promise<{ runId: string; counts: ReconcileCounts }> {
  const { runId } = input;
  const connection = await getConnection(db, input.connectionId);
  const connectionId = connection.id;
  await db.reconcileRun.update({
    where: { id: runId },
    data: { status: "running", startedAt: new Date(), error: null },
  });
  // A re-run of the job after a lost lease starts over.
  await db.reconcileFinding.deleteMany({ where: { runId } });
  await db.reconcileSourceKey.deleteMany({ where: { runId } });

  const config = loadMappingConfig(connection.mappings);
  const refusals = await loadRefusalRegistry(db, connectionId, config);
  const mapping = mappingEngineFor(config, "User", { refusals });
  let requests = 0;
  const scim = await scimClientFor(connection, box, {
    limiter:
      options.requestsPerSecond !== undefined
        ? createAdaptiveLimiter({ ratePerSecond: options.requestsPerSecond })
        : new SharedRequestBudget({ db, connectionId }),
    onExchange: (exchange: ScimExchange) => {
      requests += 1;
      recordScimExchange(connectionId, exchange);
    },
  });
  const graph = graphClientFor(connection, box);
  const snapshots: string[] = [];
  const compareMembers = config.groups.attributeMappings.some((mapping) =>
    isReferenceMapping(mapping.target),
  );
  const list = async (resourceType: "User" | "Group") => {
    const taken = await takeTargetSnapshot(db, scim, {
      connectionId,
      cycleId: null,
      resourceType,
      onProgress: async () => options.lease?.assertHeld(),
    });
    snapshots.push(taken.snapshotId);
    if (!taken.index) {
      throw new PermanentJobError(
        `Dialpad's ${resourceType === "User" ? "user" : "group"} listing cannot be trusted (${taken.verdict.reliable ? "" : taken.verdict.reason}), so no report was made: ${taken.verdict.reliable ? "" : taken.verdict.detail}`,
      );
    }
    return { snapshotId: taken.snapshotId, listed: taken.verdict.distinctIds };
  };

  try {
    const users = await list("User");
    const groups = config.groups.enabled ? await list("Group") : null;
    options.log?.info({ runId, users: users.listed, groups: groups?.listed ?? null }, "Dialpad listed");
    const entitled = await loadEntitlements(
      graph,
      connection.scope === "All" ? "All" : "AssignedOnly",
      connection.graphServicePrincipalId,
    );
    const select = graphSelectFor(mapping.sourceAttributes());
    let entraUsers = 0;
    for await (const page of graph.listUsers({ select, pageSize: GRAPH_PAGE_SIZE })) {
      options.lease?.assertHeld();
      entraUsers += page.value.length;
      const ids = page.value.map((user) => user.id);
      const links = await db.objectLink.findMany({
        where: { connectionId, objectType: "User", sourceId: { in: ids } },
        select: { sourceId: true, targetId: true, displayName: true },
      });
      const linkOf = new Map(links.map((link) => [link.sourceId, link]));
      const entries = await db.targetSnapshotEntry.findMany({
        where: {
          snapshotId: users.snapshotId,
          resourceType: "User",
          targetId: { in: links.map((link) => link.targetId) },
        },
        select: { targetId: true, resource: true },
      });
      const entryOf = new Map(entries.map((entry) => [entry.targetId, entry.resource]));
      const keys: Prisma.ReconcileSourceKeyCreateManyInput[] = [];
      const findings: FindingRow[] = [];
      for (const user of page.value) {
        const link = linkOf.get(user.id);
        const sourceName = user.userPrincipalName ?? (user.displayName as string | undefined) ?? null;
        keys.push({ runId, attribute: SEEN, value: user.id, sourceId: user.id, sourceName });
        for (const candidate of mapping.matching(toEntraUser(user, { isSoftDeleted: false }))) {
          const key = normaliseCandidate("User", candidate);
          if (!key) continue;
          keys.push({
            runId,
            attribute: key.attribute,
            value: key.value,
            sourceId: user.id,
            sourceName,
            linkedTargetId: link?.targetId ?? null,
          });
        }
        if (!link) continue;
        const current = (entryOf.get(link.targetId) ?? null) as
          (Record<string, unknown> & { id: string }) | null;
        const assessment = assessLinkedUser({
          user,
          entitled: entitled.user(user.id),
          mapping,
          current,
          skipOutOfScopeDeletions: connection.skipOutOfScopeDeletions,
        });
        if (assessment.status === "present" && assessment.keepsMemberships)
          keys.push({
            runId,
            attribute: IN_GROUPS,
            value: user.id,
            sourceId: user.id,
            sourceName,
            linkedTargetId: link.targetId,
          });
        findings.push(
          ...linkedUserFindings(runId, {
            assessment,
            targetId: link.targetId,
            targetName: typeof current?.userName === "string" ? current.userName : link.displayName,
            sourceId: user.id,
            sourceName,
          }),
        );
      }
      await db.reconcileSourceKey.createMany({ data: keys, skipDuplicates: true });
      if (findings.length) await db.reconcileFinding.createMany({ data: findings });
    }
    options.lease?.assertHeld();
    options.log?.info({ runId, entraUsers }, "Entra users compared");
    if (groups) {
      const groupMapping = mappingEngineFor(config, "Group", { withoutReferences: true, refusals });
      const compared = await reportGroupDrift(db, {
        runId,
        connectionId,
        userSnapshotId: users.snapshotId,
        groupSnapshotId: groups.snapshotId,
        graph,
        scim,
        mapping: groupMapping,
        entitled: entitled.group,
        compareMembers,
        lease: options.lease,
      });
      const entraGroups = await recordGroupKeys(db, {
        runId,
        connectionId,
        graph,
        mapping: groupMapping,
        lease: options.lease,
      });
      options.log?.info({ runId, groups: compared, entraGroups }, "linked groups compared");
    }
    // The rows were all written moments ago: without statistics the planner would scan and hash them
    // whole for every orphan instead of probing their indexes.
    await db.$executeRaw`ANALYZE "TargetSnapshotEntry", "TargetSnapshotKey", "ReconcileSourceKey"`;
    await linkedButGoneFromEntra(db, runId, connectionId, users.snapshotId);
    options.log?.info({ runId }, "links gone from Entra found");
    await orphans(db, runId, connectionId, users.snapshotId, "User");
    options.log?.info({ runId }, "orphan users found");
    await missingLinks(db, runId, connectionId, groups?.snapshotId ?? null, "Group");
    if (groups) await orphans(db, runId, connectionId, groups.snapshotId, "Group");
    // A cycle that ends prunes every snapshot of the connection but its own, ours included; the
    // deletion is one statement, so a listing still here now was whole for everything read above.
    if ((await db.targetSnapshot.count({ where: { id: { in: snapshots } } })) < snapshots.length)
      throw new Error(
        "A provisioning cycle ended during the report and removed its Dialpad listing; retrying",
      );
    const counts = await countFindings(db, runId);
    const finishedAt = new Date();
    const read = {
      dialpadUsers: users.listed,
      dialpadGroups: groups?.listed ?? 0,
      entraUsers,
      dialpadRequests: requests,
    };
    await db.$transaction(async (tx) => {
      await tx.reconcileRun.update({
        where: { id: runId },
        data: {
          status: "succeeded",
          finishedAt,
          counts: counts as unknown as Prisma.InputJsonValue,
          ...read,
        },
      });
      // In the same transaction: the event exists exactly when the report does. Only a report that found
      // something is news to a receiver; a clean one is on the console.
      const findings = findingsIn(counts);
      if (findings > 0)
        await enqueueWebhookEvent(
          tx,
          connectionId,
          "reconcile.finished",
          { runId, findings, counts, read, finishedAt },
          { subjectKey: runId, occurredAt: finishedAt },
        );
    });
    options.log?.info({ runId, counts, requests }, "reconcile report ready");
    await alertReconcileFindings(
      db,
      { runId, connectionId, counts, finishedAt },
      { ...(options.mailer === undefined ? {} : { mailer: options.mailer }), log: options.log },
    );
    return { runId, counts };
  } finally {
    await db.reconcileRun.update({ where: { id: runId }, data: { dialpadRequests: requests } });
    // The findings keep what they need; the listing and the keys would only take space.
    await db.reconcileSourceKey.deleteMany({ where: { runId } });
    if (snapshots.length) await db.targetSnapshot.deleteMany({ where: { id: { in: snapshots } } });
  }
}

function linkedUserFindings(
  runId: string,
  input: {
    assessment: ReturnType<typeof assessLinkedUser>;
    targetId: string;
    targetName: string | null;
    sourceId: string;
    sourceName: string | null;
  },
): FindingRow[] {
  const { assessment } = input;
  const base = {
    runId,
    objectType: "User",
    targetId: input.targetId,
    targetName: input.targetName,
    sourceId: input.sourceId,
    sourceName: input.sourceName,
  };
  if (assessment.status === "missing")
    return [{ ...base, category: "missing", detail: "Linked, but Dialpad no longer lists this user" }];
  if (assessment.status === "unmappable")
    return [{ ...base, category: "drifted", attribute: "(mapping)", detail: assessment.problem }];
  const rows: FindingRow[] = assessment.drift.map((drift) => ({
    ...base,
    category: "drifted",
    targetActive: assessment.dialpadActive,
    attribute: drift.attribute,
    dialpadValue: drift.dialpadValue as Prisma.InputJsonValue,
    desiredValue: drift.desiredValue as Prisma.InputJsonValue,
  }));
  if (assessment.desiredActive === true && !assessment.dialpadActive)
    rows.push({
      ...base,
      category: "suspendedInDialpad",
      targetActive: false,
      detail: "Suspended in Dialpad, while Entra considers the user active",
    });
  if (assessment.desiredActive === false && assessment.dialpadActive)
    rows.push({
      ...base,
      category: "activeInDialpad",
      targetActive: true,
      detail: `Active in Dialpad, while ${assessment.inactiveBecause ?? "Entra considers the user inactive"}`,
    });
  return rows;
}

/** Links whose Entra user Graph no longer lists: missing in Dialpad, or still active there. */
async function linkedButGoneFromEntra(
  db: PrismaClient,
  runId: string,
  connectionId: string,
  snapshotId: string,
): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "ReconcileFinding"
      ("runId", "category", "objectType", "targetId", "targetName", "targetActive", "sourceId", "sourceName", "detail")
    SELECT ${runId}::uuid,
           CASE WHEN e."targetId" IS NULL THEN 'missing' ELSE 'activeInDialpad' END,
           'User', l."targetId", coalesce(e."resource"->>'userName', l."displayName"), e."active",
           l."sourceId", l."displayName",
           CASE WHEN e."targetId" IS NULL
                THEN 'Linked, but Dialpad no longer lists this user (and Entra no longer has it)'
                ELSE 'Active in Dialpad, while the Entra user no longer exists' END
    FROM "ObjectLink" l
    LEFT JOIN "TargetSnapshotEntry" e
      ON e."snapshotId" = ${snapshotId}::uuid AND e."resourceType" = 'User' AND e."targetId" = l."targetId"
    WHERE l."connectionId" = ${connectionId}::uuid AND l."objectType" = 'User'
      AND NOT EXISTS (SELECT 1 FROM "ReconcileSourceKey" k
                      WHERE k."runId" = ${runId}::uuid AND k."attribute" = ${SEEN} AND k."value" = l."sourceId")
      AND (e."targetId" IS NULL OR e."active" IS NOT FALSE)`;
}

/** Group links whose Dialpad group is gone. */
async function missingLinks(
  db: PrismaClient,
  runId: string,
  connectionId: string,
  snapshotId: string | null,
  objectType: "Group",
): Promise<void> {
  if (!snapshotId) return;
  await db.$executeRaw`
    INSERT INTO "ReconcileFinding"
      ("runId", "category", "objectType", "targetId", "targetName", "sourceId", "sourceName", "detail")
    SELECT ${runId}::uuid, 'missing', ${objectType}, l."targetId", l."displayName", l."sourceId", l."displayName",
           'Linked, but Dialpad no longer lists this group'
    FROM "ObjectLink" l
    WHERE l."connectionId" = ${connectionId}::uuid AND l."objectType" = ${objectType}
      AND NOT EXISTS (SELECT 1 FROM "TargetSnapshotEntry" e
                      WHERE e."snapshotId" = ${snapshotId}::uuid AND e."resourceType" = ${objectType}
                        AND e."targetId" = l."targetId")`;
}

/**
 * Dialpad objects no link points to, with why: a matching key equal to an Entra user's (collides), a
 * provisioning log entry or an externalId that is an Entra object id (the link was lost), or neither.
 */
async function orphans(
  db: PrismaClient,
  runId: string,
  connectionId: string,
  snapshotId: string,
  objectType: "User" | "Group",
): Promise<void> {
  const nameKey = objectType === "User" ? "userName" : "displayName";
  const keyPrefix = objectType === "User" ? "" : GROUP_KEY_PREFIX;
  const noun = objectType === "User" ? "user" : "group";
  const [who, takeOver] =
    objectType === "User" ? ["who", "take this account over"] : ["which", "take this group over"];
  // The orphans are found first (an anti-join over the snapshot), then their keys in one pass over the
  // snapshot's keys: probing keys per entry before knowing which entries are orphans scanned the
  // snapshot's keys once per Dialpad user.
  await db.$executeRaw`
    WITH orphan AS MATERIALIZED (
      SELECT e."targetId", e."resource", e."active"
      FROM "TargetSnapshotEntry" e
      WHERE e."snapshotId" = ${snapshotId}::uuid AND e."resourceType" = ${objectType}
        AND NOT EXISTS (SELECT 1 FROM "ObjectLink" l
                        WHERE l."connectionId" = ${connectionId}::uuid AND l."objectType" = ${objectType}
                          AND l."targetId" = e."targetId")
    ), hit AS (
      SELECT DISTINCT ON (sk."targetId") sk."targetId", sk."attribute", k."sourceId", k."sourceName", k."linkedTargetId"
      FROM "TargetSnapshotKey" sk
      JOIN orphan o ON o."targetId" = sk."targetId"
      JOIN "ReconcileSourceKey" k
        ON k."runId" = ${runId}::uuid AND k."attribute" = ${keyPrefix} || sk."attribute" AND k."value" = sk."value"
      WHERE sk."snapshotId" = ${snapshotId}::uuid AND sk."resourceType" = ${objectType} AND sk."attribute" <> 'id'
      ORDER BY sk."targetId", k."sourceId"
    )
    INSERT INTO "ReconcileFinding"
      ("runId", "category", "objectType", "reason", "targetId", "targetName", "targetActive", "sourceId", "sourceName", "detail")
    SELECT ${runId}::uuid, 'orphan', ${objectType},
           CASE WHEN hit."sourceId" IS NOT NULL THEN 'collides'
                WHEN lost."why" IS NOT NULL THEN 'linkLost'
                ELSE 'neverLinked' END,
           o."targetId", o."resource"->>${nameKey}, o."active",
           coalesce(hit."sourceId", lost."sourceId"), coalesce(hit."sourceName", lost."sourceName"),
           CASE WHEN hit."sourceId" IS NOT NULL THEN
                  hit."attribute" || ' equals the matching value of Entra ' || ${noun} || ' ' || coalesce(hit."sourceName", hit."sourceId") ||
                  CASE WHEN hit."linkedTargetId" IS NOT NULL
                       THEN ', ' || ${who} || ' is linked to another Dialpad ' || ${noun} || ' (' || hit."linkedTargetId" || ')'
                       ELSE ', ' || ${who} || ' is not linked: a cycle that provisions that ' || ${noun} || ' would ' || ${takeOver} END
                WHEN lost."why" IS NOT NULL THEN lost."why"
                ELSE 'No Entra object was ever linked to it' END
    FROM orphan o
    LEFT JOIN hit ON hit."targetId" = o."targetId"
    LEFT JOIN LATERAL (
      SELECT why, "sourceId", "sourceName" FROM (
        SELECT 'Provisioned by this connection before (' || p."action" || ' on ' || to_char(p."activityDateTime", 'YYYY-MM-DD') || '), its link is gone' AS why,
               p."sourceId", p."sourceDisplayName" AS "sourceName", 1 AS rank
        FROM "ProvisioningLog" p
        WHERE p."connectionId" = ${connectionId}::uuid AND p."targetId" = o."targetId"
        UNION ALL
        SELECT 'Its externalId is the object id of Entra user ' || coalesce(k."sourceName", k."sourceId") || ', but no link points to it',
               k."sourceId", k."sourceName", 2
        FROM "ReconcileSourceKey" k
        WHERE k."runId" = ${runId}::uuid AND k."attribute" = ${SEEN} AND k."value" = o."resource"->>'externalId'
      ) reasons ORDER BY rank LIMIT 1
    ) lost ON true`;
}

async function countFindings(db: PrismaClient, runId: string): Promise<ReconcileCounts> {
  const rows = await db.$queryRaw<{ objectType: string; category: string; n: number; targets: number }[]>`
    SELECT "objectType", "category", count(*)::int AS n, count(DISTINCT "targetId")::int AS targets
    FROM "ReconcileFinding" WHERE "runId" = ${runId}::uuid
    GROUP BY "objectType", "category"`;
  const counts: ReconcileCounts = { users: {}, groups: {}, driftedUsers: 0 };
  for (const row of rows) {
    const bucket = row.objectType === "Group" ? counts.groups : counts.users;
    // A drifted user counts once however many attributes drifted.
    bucket[row.category] = row.category === "drifted" ? row.targets : row.n;
    if (row.objectType === "User" && row.category === "drifted") counts.driftedUsers = row.targets;
  }
  return counts;
}

/** Everything a report lists: orphans, drifted and missing objects, and active-state mismatches. */
export function findingsIn(counts: ReconcileCounts): number {
  const sum = (byCategory: Record<string, number>) =>
    Object.entries(byCategory).reduce(
      // A drifted user is one finding however many attributes drifted (driftedUsers counts those).
      (total, [category, count]) => total + (category === "drifted" ? 0 : count),
      0,
    );
  return sum(counts.users) + counts.driftedUsers + sum(counts.groups) + (counts.groups.drifted ?? 0);
}
