import type { PrismaClient } from "../db/generated/client";
import type { LinkStore, ObjectLinkRecord } from "../sync/ports";

export function prismaLinkStore(db: PrismaClient, connectionId: string): LinkStore {
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
      const data = {
        targetId: link.targetId,
        displayName: link.displayName,
        exportedHash: link.exportedHash,
        active: link.active,
        lastExportedAt: new Date(),
      };
      await db.objectLink.upsert({
        where: {
          connectionId_objectType_sourceId: {
            connectionId,
            objectType: link.objectType,
            sourceId: link.sourceId,
          },
        },
        create: { connectionId, objectType: link.objectType, sourceId: link.sourceId, ...data },
        update: data,
      });
    },
    async remove(objectType, sourceId) {
      await db.objectLink.deleteMany({ where: { connectionId, objectType, sourceId } });
    },
  };
}
