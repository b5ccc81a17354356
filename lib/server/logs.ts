import { LOG_ACTIONS, LOG_STATUSES, ZLogQuery, type LogQuery } from "../contracts/logs";
import type { Prisma, PrismaClient } from "../db/generated/client";

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
  const where: Prisma.ProvisioningLogWhereInput = {
    connectionId,
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
    ...(query.identity
      ? {
          OR: [
            { sourceDisplayName: { contains: query.identity, mode: "insensitive" } },
            { targetDisplayName: { contains: query.identity, mode: "insensitive" } },
            { sourceId: query.identity },
            { targetId: query.identity },
          ],
        }
      : {}),
  };
  const rows = await db.provisioningLog.findMany({ where, orderBy: { seq: "desc" }, take: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  return {
    items: page.map(toLogDto),
    nextCursor: rows.length > query.limit && page.length ? String(page[page.length - 1]!.seq) : null,
  };
}

export function toLogDto(row: Prisma.ProvisioningLogGetPayload<object>): ProvisioningLogDto {
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
