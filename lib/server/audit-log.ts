import type { z } from "zod";
import { ZAuditQuery } from "../contracts/audit";
import type { PrismaClient } from "../db/generated/client";

export { ZAuditQuery };

export async function listAudit(db: PrismaClient, connectionId: string, query: z.infer<typeof ZAuditQuery>) {
  const rows = await db.auditEntry.findMany({
    where: { connectionId, ...(query.cursor ? { seq: { lt: BigInt(query.cursor) } } : {}) },
    orderBy: { seq: "desc" },
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return {
    items: page.map((row) => ({
      id: row.id,
      at: row.at.toISOString(),
      activity: row.activity,
      actor: { objectId: row.actorObjectId, upn: row.actorUpn },
      result: row.result,
      changes: row.changes,
    })),
    nextCursor: rows.length > query.limit && page.length ? String(page[page.length - 1]!.seq) : null,
  };
}
