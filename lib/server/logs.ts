import { z } from "zod";
import { Prisma, type PrismaClient } from "../db/generated/client";

export const LOG_ACTIONS = ["Create", "Update", "Delete", "Disable", "StagedDelete", "Other"] as const;
export const LOG_STATUSES = ["Success", "Failure", "Skipped", "Warning"] as const;

export const ZLogQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    status: z.enum(LOG_STATUSES).optional(),
    action: z.enum(LOG_ACTIONS).optional(),
    /**
     * A display name (or a UPN or mail before the @) containing this, or a whole UPN, mail or object id;
     * case and accents do not matter. Three characters at least: a shorter "contains" cannot use the
     * trigram index and would read every row.
     */
    identity: z
      .string()
      .trim()
      .min(3, "type at least 3 characters of a name, or a whole UPN, mail or object ID")
      .max(200)
      .optional(),
    cycleId: z.uuid().optional(),
    changeId: z.uuid().optional(),
    /** Opaque keyset cursor from the previous page's `nextCursor`. */
    cursor: z.string().max(20).regex(/^\d+$/, "is not a cursor from this API").optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type LogQuery = z.infer<typeof ZLogQuery>;

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
}

/**
 * Newest first, paged by keyset on the monotonic `seq` (not OFFSET), so page 1,000 costs what page 1
 * costs and rows arriving meanwhile do not shift pages. The page's ids are chosen in SQL (the identity
 * filter needs PostgreSQL's folding and indexes); the rows are then read by id.
 */
export async function listLogs(
  db: PrismaClient,
  connectionId: string,
  query: LogQuery,
): Promise<{ items: ProvisioningLogDto[]; nextCursor: string | null }> {
  const matches = await matchingLogIds(db, connectionId, query, query.limit + 1);
  const page = matches.slice(0, query.limit);
  const rows = page.length
    ? await db.provisioningLog.findMany({
        where: { id: { in: page.map((match) => match.id) } },
        orderBy: { seq: "desc" },
        omit: { identityNames: true, identityKeyHashes: true },
      })
    : [];
  return {
    items: rows.map(toLogDto),
    nextCursor: matches.length > query.limit && page.length ? page[page.length - 1]!.cursor : null,
  };
}

async function matchingLogIds(
  db: PrismaClient,
  connectionId: string,
  query: LogQuery,
  take: number,
): Promise<{ id: string; cursor: string }[]> {
  const conditions = [Prisma.sql`"connectionId" = ${connectionId}::uuid`];
  if (query.status) conditions.push(Prisma.sql`"status" = ${query.status}`);
  if (query.action) conditions.push(Prisma.sql`"action" = ${query.action}`);
  if (query.cycleId) conditions.push(Prisma.sql`"cycleId" = ${query.cycleId}::uuid`);
  if (query.changeId) conditions.push(Prisma.sql`"changeId" = ${query.changeId}::uuid`);
  if (query.from) conditions.push(Prisma.sql`"activityDateTime" >= ${query.from}::timestamptz`);
  if (query.to) conditions.push(Prisma.sql`"activityDateTime" <= ${query.to}::timestamptz`);
  if (query.cursor) conditions.push(Prisma.sql`"seq" < ${query.cursor}::bigint`);
  const common = Prisma.join(conditions, " AND ");
  if (!query.identity) {
    return db.$queryRaw`
      SELECT id::text AS id, seq::text AS cursor FROM "ProvisioningLog"
      WHERE ${common} ORDER BY seq DESC LIMIT ${take}`;
  }
  const term = query.identity;
  const pattern = term.replace(/[\\%_]/g, "\\$&");
  // Two branches, each planned on its own: the exact match on whole UPN, mail or id is a lookup in the
  // hash index, materialised so the planner never trades it for a backward walk of the whole table
  // (it cannot estimate one hash's frequency); "contains" on names is left to the planner, which walks
  // backwards from the newest row for a frequent name and uses the trigram index for a rare one.
  return db.$queryRaw`
    WITH exact AS MATERIALIZED (
      SELECT id, seq FROM "ProvisioningLog"
      WHERE ${common}
        AND "identityKeyHashes" @> ARRAY[provisioning_identity_key_hash(provisioning_identity_fold(${term}))]
        AND provisioning_identity_fold(${term}) = ANY (provisioning_identity_keys("steps", "sourceId", "targetId"))
    )
    SELECT id::text AS id, seq::text AS cursor FROM (
      (SELECT id, seq FROM "ProvisioningLog"
        WHERE ${common} AND "identityNames" LIKE '%' || provisioning_identity_fold(${pattern}) || '%'
        ORDER BY seq DESC LIMIT ${take})
      UNION
      (SELECT id, seq FROM exact ORDER BY seq DESC LIMIT ${take})
    ) AS matches
    ORDER BY seq DESC LIMIT ${take}`;
}

/** The filter's generated columns are PostgreSQL's business; a log row as the API knows it. */
type LogRow = Omit<Prisma.ProvisioningLogGetPayload<object>, "identityNames" | "identityKeyHashes">;

export function toLogDto(row: LogRow): ProvisioningLogDto {
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
  };
}
