import type { Prisma, PrismaClient } from "../db/generated/client";
import type { LinkStore, ObjectLinkRecord } from "../sync/ports";

/**
 * Group memberships exported to Dialpad are kept as ObjectLink rows of this type (sourceId
 * "<groupId>|<userId>", targetId the Dialpad user id), so an unchanged group costs no request and a
 * removed member can be removed without reading the group's members from Dialpad.
 */
export const MEMBERSHIP_LINK_TYPE = "GroupMember";

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
  await forgetMembersOfReplacedGroups(db, connectionId, unique);
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

/**
 * A group linked to another Dialpad group than before (the old one was deleted in Dialpad, and the
 * group created or matched again) has none of the members exported to the old one: they are forgotten,
 * so the cycle adds them to the new group.
 */
async function forgetMembersOfReplacedGroups(
  db: PrismaClient | Prisma.TransactionClient,
  connectionId: string,
  links: readonly ObjectLinkRecord[],
): Promise<void> {
  const groups = links.filter((link) => link.objectType === "Group");
  if (groups.length === 0) return;
  const replaced = await db.$queryRaw<{ sourceId: string }[]>`
    SELECT g."sourceId" FROM "ObjectLink" g
    JOIN unnest(${groups.map((link) => link.sourceId)}::text[], ${groups.map((link) => link.targetId)}::text[])
      AS l("sourceId", "targetId") ON l."sourceId" = g."sourceId"
    WHERE g."connectionId" = ${connectionId}::uuid AND g."objectType" = 'Group' AND g."targetId" <> l."targetId"`;
  if (replaced.length === 0) return;
  await db.$executeRaw`
    DELETE FROM "ObjectLink"
    WHERE "connectionId" = ${connectionId}::uuid AND "objectType" = ${MEMBERSHIP_LINK_TYPE}
      AND split_part("sourceId", '|', 1) = ANY(${replaced.map((row) => row.sourceId)}::text[])`;
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
