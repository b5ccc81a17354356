import type { Prisma, PrismaClient } from "../db/generated/client";
import type { LinkStore, ObjectLinkRecord } from "../sync/ports";

/**
 * Saves many links in one statement (the last of repeated keys wins): a cycle unit records the links of
 * its objects in batches, with their log entries, instead of one transaction per object.
 */
export async function saveLinks(
  db: PrismaClient | Prisma.TransactionClient,
  connectionId: string,
  links: readonly ObjectLinkRecord[],
): Promise<void> {
  if (links.length === 0) return;
  // ON CONFLICT cannot touch one row twice in a statement.
  const unique = [...new Map(links.map((link) => [`${link.objectType}:${link.sourceId}`, link])).values()];
  await db.$executeRaw`
    INSERT INTO "ObjectLink" ("connectionId", "objectType", "sourceId", "targetId", "displayName",
      "exportedHash", "active", "lastExportedAt", "createdAt", "updatedAt")
    SELECT ${connectionId}::uuid, l."objectType", l."sourceId", l."targetId", l."displayName",
      l."exportedHash", l."active", now(), now(), now()
    FROM jsonb_to_recordset(${JSON.stringify(unique)}::jsonb) AS l("objectType" text, "sourceId" text,
      "targetId" text, "displayName" text, "exportedHash" text, "active" boolean)
    ON CONFLICT ("connectionId", "objectType", "sourceId") DO UPDATE SET
      "targetId" = EXCLUDED."targetId", "displayName" = EXCLUDED."displayName",
      "exportedHash" = EXCLUDED."exportedHash", "active" = EXCLUDED."active",
      "lastExportedAt" = EXCLUDED."lastExportedAt", "updatedAt" = now()`;
}

export function prismaLinkStore(
  db: PrismaClient | Prisma.TransactionClient,
  connectionId: string,
): LinkStore {
  return {
    async get(objectType, sourceId) {
      const row = await db.objectLink.findUnique({
        where: { connectionId_objectType_sourceId: { connectionId, objectType, sourceId } },
      });
      if (!row) return null;
      return {
        objectType: row.objectType as ObjectLinkRecord["objectType"],
        sourceId: row.sourceId,
        targetId: row.targetId,
        displayName: row.displayName,
        exportedHash: row.exportedHash,
        active: row.active,
      };
    },
    async save(link) {
      await saveLinks(db, connectionId, [link]);
    },
    async remove(objectType, sourceId) {
      await db.objectLink.deleteMany({ where: { connectionId, objectType, sourceId } });
    },
  };
}
