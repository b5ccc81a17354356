/**
 * Target snapshots in PostgreSQL: match a cycle's objects against one listing of Dialpad instead of a
 * `GET /Users?filter=userName eq "…"` per object (2.03 requests per user on an initial cycle becomes
 * ~1.01: one listing request per 100 users, then the POST).
 *
 * How the engine uses it:
 * 1. At the start of an initial cycle (or any cycle after links were cleared, i.e. when most objects have no
 *    link and would need a match query), the planner calls `takeTargetSnapshot(db, scim, { connectionId,
 *    cycleId, resourceType: "User" })`, and again for "Group" when groups are provisioned. Pages are
 *    streamed into TargetSnapshotEntry/TargetSnapshotKey one INSERT per page; memory holds one page and
 *    the ids seen.
 * 2. `verdict.reliable` false (listing refused, turned off, totalResults changed, pages skipped or repeated):
 *    `index` is null and the engine matches exactly as before, one filter query per object
 *    (`resolveTarget`). Nothing else changes.
 * 3. Reliable: each unit opens the index (`openTargetIndex(db, { cycleId, resourceType })` or by snapshot
 *    id) and calls `lookup(candidates[][])` once for its objects without a link, `candidates` being each
 *    object's `mapping.matching(source)` in precedence order. One SQL round trip for the whole unit.
 *    `found` → update/link that resource (it is the listed resource minus members/groups); `absent` →
 *    create; `ambiguous` → fail with DuplicateTargetEntries as `expectSingleMatch` does; `unindexed` (a
 *    matching attribute the snapshot does not index, e.g. an enterprise attribute) → `resolveTarget` for
 *    that object only.
 * 4. After each successful create, `recordCreated(resource)`, so a second object with the same userName in
 *    the same cycle matches the new user instead of being created twice.
 * 5. Objects with a link: `targetIdsMissing(linkedIds)` names, in one query, the links whose Dialpad
 *    object is gone (deleted in Dialpad since the last cycle: re-match or recreate them). The linked
 *    resource itself, as listed, is `lookup([[{ targetAttribute: "id", value: link.targetId }]])`, which
 *    saves the GET by id before a PATCH.
 * 6. `pruneTargetSnapshots` after the cycle ends (keep none, or the last one for diagnosis).
 *
 * A reliable snapshot is still a picture of one moment: a user created in Dialpad by someone else after
 * the listing is `absent` here, and its create will get 409 uniqueness. The engine should answer such a
 * 409 by matching that object with a filter query (as it would answer a 409 from a stale link).
 */
import type { PrismaClient } from "../db/generated/client";
import type { ScimClient } from "../scim/client";
import { isScimError } from "../scim/errors";
import { readTargetSnapshot, type SnapshotResourceType, type SnapshotVerdict } from "../scim/snapshot-reader";
import {
  compactResource,
  describeCandidate,
  normaliseCandidate,
  resourceActive,
  snapshotKeys,
  type IndexedLookup,
  type MatchingCandidate,
  type TargetIndex,
} from "../sync/target-index";

export interface TakeTargetSnapshotOptions {
  connectionId: string;
  cycleId: string | null;
  resourceType: SnapshotResourceType;
  /** Asked per page; Dialpad returns at most 100. */
  pageSize?: number;
  /** The connection's setting: do not list the target (the snapshot is recorded as unreliable). */
  listingDisabled?: boolean;
  /**
   * After each page is stored (the next one is already being fetched): a 100,000-user listing is 1,000 requests,
   * so the planner can report progress and honour Stop (throw to abandon the listing).
   */
  onProgress?: (progress: { resourcesRead: number; totalResults: number }) => Promise<void>;
}

export interface TakenTargetSnapshot {
  snapshotId: string;
  verdict: SnapshotVerdict;
  /** Null unless the verdict is reliable: then match with filter queries. */
  index: TargetIndex | null;
}

type ListedResource = Readonly<Record<string, unknown>> & { id: string };

/** Lists the target into a new snapshot; see the file's doc for how the verdict is used. */
export async function takeTargetSnapshot(
  db: PrismaClient,
  scim: ScimClient,
  options: TakeTargetSnapshotOptions,
): Promise<TakenTargetSnapshot> {
  const { resourceType } = options;
  const snapshot = await db.targetSnapshot.create({
    data: { connectionId: options.connectionId, cycleId: options.cycleId, resourceType },
    select: { id: true },
  });
  const snapshotId = snapshot.id;
  let verdict: SnapshotVerdict;
  try {
    verdict = await readTargetSnapshot(scim, resourceType, {
      pageSize: options.pageSize,
      listingDisabled: options.listingDisabled,
      onPage: async (page) => {
        await writeEntries(db, snapshotId, resourceType, page.resources);
        await options.onProgress?.({
          resourcesRead: page.startIndex - 1 + page.resources.length,
          totalResults: page.totalResults,
        });
      },
    });
  } catch (error) {
    // Never leave a snapshot "reading": a unit could otherwise wait for it or trust half of it.
    await markUnreliable(db, snapshotId, {
      reason: "ListingFailed",
      detail: isScimError(error)
        ? `${error.code}${error.status ? ` (HTTP ${error.status})` : ""}: ${error.detail}`
        : String(error),
    });
    throw error;
  }
  const counts = {
    totalResults: verdict.totalResults,
    entryCount: verdict.distinctIds,
    pageCount: verdict.pages,
    requestCount: verdict.requests,
  };
  if (!verdict.reliable) {
    await markUnreliable(db, snapshotId, { reason: verdict.reason, detail: verdict.detail, ...counts });
    return { snapshotId, verdict, index: null };
  }
  await db.targetSnapshot.update({
    where: { id: snapshotId },
    data: { status: "ready", finishedAt: new Date(), ...counts },
  });
  return { snapshotId, verdict, index: targetIndex(db, snapshotId, resourceType) };
}

async function markUnreliable(
  db: PrismaClient,
  snapshotId: string,
  data: {
    reason: string;
    detail: string;
    totalResults?: number | null;
    entryCount?: number;
    pageCount?: number;
    requestCount?: number;
  },
): Promise<void> {
  await db.targetSnapshot.update({
    where: { id: snapshotId },
    data: { status: "unreliable", finishedAt: new Date(), ...data, detail: data.detail.slice(0, 2000) },
  });
  // Entries of an untrustworthy listing are never read; they would only take space until pruned.
  await db.targetSnapshotKey.deleteMany({ where: { snapshotId } });
  await db.targetSnapshotEntry.deleteMany({ where: { snapshotId } });
}

/** The index of a snapshot that is ready, by id or by the cycle that took it; null otherwise. */
export async function openTargetIndex(
  db: PrismaClient,
  which: { snapshotId: string } | { cycleId: string; resourceType: SnapshotResourceType },
): Promise<TargetIndex | null> {
  const row =
    "snapshotId" in which
      ? await db.targetSnapshot.findUnique({ where: { id: which.snapshotId } })
      : await db.targetSnapshot.findFirst({
          where: { cycleId: which.cycleId, resourceType: which.resourceType },
          orderBy: { takenAt: "desc" },
        });
  if (!row || row.status !== "ready") return null;
  return targetIndex(db, row.id, row.resourceType === "Group" ? "Group" : "User");
}

/** Deletes the connection's snapshots except `keep`; a running cycle's snapshot must be in `keep`. */
export async function pruneTargetSnapshots(
  db: PrismaClient,
  connectionId: string,
  keep: readonly string[] = [],
): Promise<number> {
  const deleted = await db.targetSnapshot.deleteMany({
    where: { connectionId, id: { notIn: [...keep] } },
  });
  return deleted.count;
}

/** One INSERT for a page: entries and their keys; a resource listed twice is kept once. */
async function writeEntries(
  db: PrismaClient,
  snapshotId: string,
  resourceType: SnapshotResourceType,
  resources: readonly ListedResource[],
): Promise<void> {
  if (resources.length === 0) return;
  const rows = resources.map((resource) => ({
    targetId: resource.id,
    active: resourceActive(resourceType, resource),
    resource: compactResource(resource),
    keys: snapshotKeys(resourceType, resource),
  }));
  await db.$executeRaw`
    WITH page AS (
      SELECT r."targetId", r."active", r."resource", r."keys"
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS r("targetId" text, "active" boolean, "resource" jsonb, "keys" jsonb)
    ), entries AS (
      INSERT INTO "TargetSnapshotEntry" ("snapshotId", "resourceType", "targetId", "active", "resource")
      SELECT ${snapshotId}::uuid, ${resourceType}, page."targetId", page."active", page."resource" FROM page
      ON CONFLICT DO NOTHING
    )
    INSERT INTO "TargetSnapshotKey" ("snapshotId", "resourceType", "attribute", "value", "targetId")
    SELECT ${snapshotId}::uuid, ${resourceType}, k."attribute", k."value", page."targetId"
    FROM page, jsonb_to_recordset(page."keys") AS k("attribute" text, "value" text)
    ON CONFLICT DO NOTHING`;
}

interface LookupRow {
  o: number;
  p: number;
  n: number;
  ids: string[];
  resource: (Record<string, unknown> & { id: string }) | null;
}

/** The TargetIndex port over one snapshot; does not check the snapshot's status (see openTargetIndex). */
export function targetIndex(
  db: PrismaClient,
  snapshotId: string,
  resourceType: SnapshotResourceType,
): TargetIndex {
  return {
    snapshotId,
    resourceType,
    async lookup(objects) {
      const sent: { o: number; p: number; a: string; v: string }[] = [];
      const unindexed = new Map<number, string>();
      for (const [o, candidates] of objects.entries()) {
        for (const [p, candidate] of candidates.entries()) {
          const key = normaliseCandidate(resourceType, candidate);
          // Precedence: a candidate we cannot answer hides every candidate after it.
          if (!key) {
            unindexed.set(o, candidate.targetAttribute);
            break;
          }
          sent.push({ o, p, a: key.attribute, v: key.value });
        }
      }
      const decided = new Map<number, LookupRow>();
      if (sent.length > 0) {
        // LATERAL keeps every probe an index lookup whatever the statistics say: right after a snapshot is
        // written the planner knows nothing about it and would otherwise hash the whole snapshot's keys.
        const rows = await db.$queryRaw<LookupRow[]>`
          WITH candidate AS (
            SELECT c."o", c."p", c."a", c."v"
            FROM jsonb_to_recordset(${JSON.stringify(sent)}::jsonb) AS c("o" int, "p" int, "a" text, "v" text)
          ), decisive AS (
            SELECT DISTINCT ON (candidate."o") candidate."o", candidate."p", hit."n", hit."ids"
            FROM candidate
            CROSS JOIN LATERAL (
              SELECT count(*)::int AS "n", (array_agg(k."targetId" ORDER BY k."targetId"))[1:5] AS "ids"
              FROM "TargetSnapshotKey" k
              WHERE k."snapshotId" = ${snapshotId}::uuid AND k."resourceType" = ${resourceType}
                AND k."attribute" = candidate."a" AND k."value" = candidate."v"
            ) hit
            WHERE hit."n" > 0
            ORDER BY candidate."o", candidate."p"
          )
          SELECT d."o", d."p", d."n", d."ids", entry."resource"
          FROM decisive d
          LEFT JOIN LATERAL (
            SELECT e."resource" FROM "TargetSnapshotEntry" e
            WHERE e."snapshotId" = ${snapshotId}::uuid AND e."resourceType" = ${resourceType}
              AND e."targetId" = d."ids"[1]
            LIMIT 1
          ) entry ON d."n" = 1`;
        for (const row of rows) decided.set(row.o, row);
      }
      return objects.map((candidates, o): IndexedLookup => {
        const row = decided.get(o);
        if (row) {
          const candidate = candidates[row.p] as MatchingCandidate;
          if (row.n > 1)
            return { status: "ambiguous", matchedBy: describeCandidate(candidate), targetIds: row.ids };
          if (!row.resource)
            throw new Error(`snapshot ${snapshotId} has a key without its entry ${row.ids[0]}`);
          return { status: "found", resource: row.resource, matchedBy: describeCandidate(candidate) };
        }
        const hidden = unindexed.get(o);
        if (hidden !== undefined) return { status: "unindexed", targetAttribute: hidden };
        return { status: "absent", tried: candidates.map(describeCandidate) };
      });
    },
    async targetIdsMissing(linkedTargetIds) {
      if (linkedTargetIds.length === 0) return [];
      const rows = await db.$queryRaw<{ id: string }[]>`
        SELECT t."id"
        FROM jsonb_array_elements_text(${JSON.stringify(linkedTargetIds)}::jsonb) WITH ORDINALITY AS t("id", "n")
        WHERE NOT EXISTS (
          SELECT 1 FROM "TargetSnapshotEntry" e
          WHERE e."snapshotId" = ${snapshotId}::uuid AND e."resourceType" = ${resourceType}
            AND e."targetId" = t."id")
        ORDER BY t."n"`;
      return rows.map((row) => row.id);
    },
    async recordCreated(resource) {
      await writeEntries(db, snapshotId, resourceType, [resource]);
    },
  };
}
