import { ZAuditQuery, type AuditEntryObject, type AuditQuery } from "../contracts/audit";
import type { Prisma, PrismaClient } from "../db/generated/client";

export { ZAuditQuery, type AuditQuery };

export type AuditObjectDto = AuditEntryObject;

export interface AuditEntryDto {
  id: string;
  at: string;
  activity: string;
  actor: { objectId: string; upn: string };
  result: string;
  changes: unknown;
  object: AuditObjectDto | null;
}

type AuditRow = Prisma.AuditEntryGetPayload<object>;

export async function listAudit(
  db: PrismaClient,
  connectionId: string,
  query: AuditQuery,
): Promise<{ items: AuditEntryDto[]; nextCursor: string | null }> {
  const where: Prisma.AuditEntryWhereInput = {
    connectionId,
    ...(query.cursor ? { seq: { lt: BigInt(query.cursor) } } : {}),
    ...(query.activity ? { activity: query.activity } : {}),
    ...(query.from || query.to
      ? {
          at: {
            ...(query.from ? { gte: new Date(query.from) } : {}),
            ...(query.to ? { lte: new Date(query.to) } : {}),
          },
        }
      : {}),
    AND: [
      ...(query.actor
        ? [
            {
              OR: [
                { actorUpn: { contains: query.actor, mode: "insensitive" as const } },
                { actorObjectId: { equals: query.actor, mode: "insensitive" as const } },
              ],
            },
          ]
        : []),
      ...(query.object ? [objectMatches(query.object)] : []),
    ],
  };
  const rows = await db.auditEntry.findMany({ where, orderBy: { seq: "desc" }, take: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  const objects = await resolveObjects(db, connectionId, page);
  return {
    items: page.map((row) => ({
      id: row.id,
      at: row.at.toISOString(),
      activity: row.activity,
      actor: { objectId: row.actorObjectId, upn: row.actorUpn },
      result: row.result,
      changes: row.changes,
      object: objects.get(row.id) ?? null,
    })),
    nextCursor: rows.length > query.limit && page.length ? String(page[page.length - 1]!.seq) : null,
  };
}

/**
 * Entries written since objects are recorded match on their columns; older on-demand and replay entries
 * hold the object id only in `changes`, where an exact id still finds them.
 */
function objectMatches(object: string): Prisma.AuditEntryWhereInput {
  return {
    OR: [
      { objectId: { equals: object, mode: "insensitive" } },
      { objectDisplayName: { contains: object, mode: "insensitive" } },
      { objectUpn: { contains: object, mode: "insensitive" } },
      { changes: { path: ["object", "after"], equals: object } },
      { changes: { path: ["subjects", "after"], array_contains: [object] } },
    ],
  };
}

/** The object an entry names: its own columns, or for older entries the id in `changes`. */
function objectOf(row: AuditRow): { type: string; id: string } | null {
  if (row.objectId) return { type: row.objectType ?? "User", id: row.objectId };
  const changes = row.changes as Record<string, { after?: unknown } | undefined> | null;
  if (row.activity === "Replay a failed change" && typeof changes?.object?.after === "string")
    return { type: "User", id: changes.object.after };
  if (row.activity === "Provision on demand" && Array.isArray(changes?.subjects?.after)) {
    const [subject] = changes.subjects.after as unknown[];
    if (typeof subject !== "string") return null;
    const group = /^group (\S+) with/.exec(subject);
    return group ? { type: "Group", id: group[1]! } : { type: "User", id: subject };
  }
  return null;
}

/**
 * Names each entry's object: as recorded when the run read it, else as the connection's link to Dialpad
 * last saw it (older entries, runs that failed before reading the object), else by id alone.
 */
async function resolveObjects(
  db: PrismaClient,
  connectionId: string,
  rows: AuditRow[],
): Promise<Map<string, AuditObjectDto>> {
  const found = rows.flatMap((row) => {
    const object = objectOf(row);
    return object ? [{ row, object }] : [];
  });
  const unnamed = found.filter(({ row }) => !row.objectDisplayName).map(({ object }) => object.id);
  const links = unnamed.length
    ? await db.objectLink.findMany({
        where: { connectionId, sourceId: { in: [...new Set(unnamed)] } },
        select: { sourceId: true, objectType: true, displayName: true },
      })
    : [];
  const linked = new Map(links.map((link) => [link.sourceId, link]));
  return new Map(
    found.map(({ row, object }) => {
      const link = linked.get(object.id);
      return [
        row.id,
        {
          type: link?.objectType ?? object.type,
          id: object.id,
          displayName: row.objectDisplayName ?? link?.displayName ?? null,
          userPrincipalName: row.objectUpn,
        },
      ];
    }),
  );
}
