import { LOG_ACTIONS, LOG_STATUSES, ZLogQuery, type LogQuery } from "../contracts/logs";
import { Prisma, type PrismaClient } from "../db/generated/client";

export { LOG_ACTIONS, LOG_STATUSES, ZLogQuery, type LogQuery };

export interface ProvisioningLogDto {
  id: string;
  activityDateTime: string;
  cycleId: string | null;
  changeId: string;
  jobId: string | null;
  action: string;
  status: string;
  objectType: string;
  sourceIdentity: { id: string | null; displayName: string | null };
  targetIdentity: { id: string | null; displayName: string | null };
  modifiedProperties: unknown;
  steps: unknown;
  error: {
    code: string | null;
    category: string | null;
    reason: string | null;
    recommendedAction: string | null;
  } | null;
  durationMs: number;
  initiatedBy: string;
  /** This entry retried that (failed) entry. */
  replayOf: string | null;
  /** Continuous mode: when the poll that queued this entry's cycle saw the change in Entra ID. */
  changeSeenAt: string | null;
}

/**
 * Newest first, paged by keyset on the monotonic `seq` (not OFFSET), so page 1,000 costs what page 1
 * costs and rows arriving meanwhile do not shift pages.
 */
export async function listLogs(
  db: PrismaClient,
  connectionId: string,
  query: LogQuery,
): Promise<{ items: ProvisioningLogDto[]; nextCursor: string | null }> {
  const take = query.limit + 1;
  const omit = { identityNames: true, identityKeyHashes: true } as const;
  let rows: LogRow[];
  if (query.identity) {
    // The identity filter needs PostgreSQL's folding and indexes: the page's ids are chosen in SQL,
    // then its rows are read by id.
    const ids = await idsMatchingIdentity(db, connectionId, query, query.identity, take);
    rows = ids.length
      ? await db.provisioningLog.findMany({ where: { id: { in: ids } }, orderBy: { seq: "desc" }, omit })
      : [];
  } else {
    rows = await db.provisioningLog.findMany({
      where: { connectionId, ...fieldFilters(query) },
      orderBy: { seq: "desc" },
      take,
      omit,
    });
  }
  const page = rows.slice(0, query.limit);
  const seen = await changeSeenOf(db, page);
  return {
    items: page.map((row) => toLogDto(row, row.cycleId ? seen.get(row.cycleId) : null)),
    nextCursor: rows.length > query.limit && page.length ? String(page[page.length - 1]!.seq) : null,
  };
}

function fieldFilters(query: LogQuery): Prisma.ProvisioningLogWhereInput {
  return {
    ...(query.status ? { status: query.status } : {}),
    ...(query.action ? { action: query.action } : {}),
    ...(query.cycleId ? { cycleId: query.cycleId } : {}),
    ...(query.changeId ? { changeId: query.changeId } : {}),
    ...(query.from || query.to
      ? {
          activityDateTime: {
            ...(query.from ? { gte: new Date(query.from) } : {}),
            ...(query.to ? { lte: new Date(query.to) } : {}),
          },
        }
      : {}),
    ...(query.cursor ? { seq: { lt: BigInt(query.cursor) } } : {}),
  };
}

async function idsMatchingIdentity(
  db: PrismaClient,
  connectionId: string,
  query: LogQuery,
  term: string,
  take: number,
): Promise<string[]> {
  const conditions = [Prisma.sql`"connectionId" = ${connectionId}::uuid`];
  if (query.status) conditions.push(Prisma.sql`"status" = ${query.status}`);
  if (query.action) conditions.push(Prisma.sql`"action" = ${query.action}`);
  if (query.cycleId) conditions.push(Prisma.sql`"cycleId" = ${query.cycleId}::uuid`);
  if (query.changeId) conditions.push(Prisma.sql`"changeId" = ${query.changeId}::uuid`);
  if (query.from) conditions.push(Prisma.sql`"activityDateTime" >= ${query.from}::timestamptz`);
  if (query.to) conditions.push(Prisma.sql`"activityDateTime" <= ${query.to}::timestamptz`);
  if (query.cursor) conditions.push(Prisma.sql`"seq" < ${query.cursor}::bigint`);
  const common = Prisma.join(conditions, " AND ");
  const pattern = term.replace(/[\\%_]/g, "\\$&");
  // Two branches, each planned on its own: the exact match on whole UPN, mail or id is a lookup in the
  // hash index, materialised so the planner never trades it for a backward walk of the whole table
  // (it cannot estimate one hash's frequency); "contains" on names is left to the planner, which walks
  // backwards from the newest row for a frequent name and uses the trigram index for a rare one.
  const rows = await db.$queryRaw<{ id: string }[]>`
    WITH exact AS MATERIALIZED (
      SELECT id, seq FROM "ProvisioningLog"
      WHERE ${common}
        AND "identityKeyHashes" @> ARRAY[provisioning_identity_key_hash(provisioning_identity_fold(${term}))]
    )
    SELECT id::text AS id FROM (
      (SELECT id, seq FROM "ProvisioningLog"
        WHERE ${common} AND "identityNames" LIKE '%' || provisioning_identity_fold(${pattern}) || '%'
        ORDER BY seq DESC LIMIT ${take})
      UNION
      (SELECT id, seq FROM exact ORDER BY seq DESC LIMIT ${take})
    ) AS matches
    ORDER BY seq DESC LIMIT ${take}`;
  return rows.map((row) => row.id);
}

/** The filter's generated columns are PostgreSQL's business; a log row as the API knows it. */
type LogRow = Omit<Prisma.ProvisioningLogGetPayload<object>, "identityNames" | "identityKeyHashes">;

/** When the change behind each cycle of a page was seen (continuous mode): one lookup per page. */
async function changeSeenOf(db: PrismaClient, rows: LogRow[]): Promise<Map<string, Date | null>> {
  const cycleIds = [...new Set(rows.flatMap((row) => (row.cycleId ? [row.cycleId] : [])))];
  if (cycleIds.length === 0) return new Map();
  const cycles = await db.cycle.findMany({
    where: { id: { in: cycleIds } },
    select: { id: true, changeSeenAt: true },
  });
  return new Map(cycles.map((cycle) => [cycle.id, cycle.changeSeenAt]));
}

export function toLogDto(row: LogRow, changeSeenAt?: Date | null): ProvisioningLogDto {
  return {
    id: row.id,
    activityDateTime: row.activityDateTime.toISOString(),
    cycleId: row.cycleId,
    changeId: row.changeId,
    jobId: row.jobId,
    action: row.action,
    status: row.status,
    objectType: row.objectType,
    sourceIdentity: { id: row.sourceId, displayName: row.sourceDisplayName },
    targetIdentity: { id: row.targetId, displayName: row.targetDisplayName },
    modifiedProperties: row.modifiedProperties,
    steps: row.steps,
    error: row.errorCode
      ? {
          code: row.errorCode,
          category: row.errorCategory,
          reason: row.errorReason,
          recommendedAction: row.recommendedAction,
        }
      : null,
    durationMs: row.durationMs,
    initiatedBy: row.initiatedBy,
    replayOf: row.replayOf,
    changeSeenAt: changeSeenAt?.toISOString() ?? null,
  };
}
