import type { PrismaClient } from "../db/client";
import type { TMappingConfig } from "../mapping";
import type { ObjectType } from "../sync/plan";
import { attributeKey, refusalAdvice, type AttributeRefusal, type RefusalRegistry } from "../sync/refusals";
import type { Writer } from "./cycle-store";

/*
 * The owner of RefusedAttribute rows: what Dialpad refused, for which objects, and whether the refusal
 * still holds. A refusal holds while the attribute's mappings are those it was refused with and it is
 * less than REFUSAL_HOLDS_MS old; afterwards the next change sends the attribute again, so a target that
 * learnt the attribute (or a fixed mapping) is noticed without an admin clearing anything.
 */

export const REFUSAL_HOLDS_MS = 24 * 60 * 60 * 1000;

/** The mappings of one target attribute, as text: a changed expression or target is a new signature. */
export function mappingSignature(config: TMappingConfig, objectType: ObjectType, key: string): string {
  const mappings = objectType === "User" ? config.users : config.groups;
  return JSON.stringify(
    mappings.attributeMappings
      .filter((mapping) => attributeKey(mapping.target) === key)
      .map((mapping) => [mapping.type, mapping.source, mapping.target, mapping.defaultValue, mapping.apply])
      .sort(),
  );
}

interface RefusalRow {
  objectType: string;
  attributeKey: string;
  attribute: string;
  scimType: string | null;
  detail: string;
  request: string;
  mappingSignature: string;
  firstRefusedAt: Date;
  lastRefusedAt: Date;
}

function holds(row: RefusalRow, config: TMappingConfig, now: Date): boolean {
  return (
    now.getTime() - row.lastRefusedAt.getTime() < REFUSAL_HOLDS_MS &&
    row.mappingSignature === mappingSignature(config, row.objectType as ObjectType, row.attributeKey)
  );
}

/**
 * The registry a cycle, a unit or an on-demand run works with: the refusals that hold when it starts,
 * plus those it learns (shared in memory by the objects it provisions, written for the next ones).
 */
export async function loadRefusalRegistry(
  db: PrismaClient,
  connectionId: string,
  config: TMappingConfig,
  options: { write?: Writer; now?: () => Date } = {},
): Promise<RefusalRegistry> {
  const now = options.now ?? (() => new Date());
  const write: Writer = options.write ?? ((work) => db.$transaction(work));
  const rows = await db.refusedAttribute.findMany({ where: { connectionId } });
  const refused = new Set(
    rows.filter((row) => holds(row, config, now())).map((row) => `${row.objectType}|${row.attributeKey}`),
  );
  return {
    isRefused: (objectType, attribute) => refused.has(`${objectType}|${attributeKey(attribute)}`),
    async record(objectType, sourceId, refusal: AttributeRefusal) {
      if (!refusal.attributeWide) return;
      const key = attributeKey(refusal.attribute);
      const signature = mappingSignature(config, objectType, key);
      await write(async (tx) => {
        if (!refusal.known) {
          // A refusal under another mapping was about another attribute mapping: its objects start over.
          await tx.$executeRaw`
            DELETE FROM "RefusedAttribute" WHERE "connectionId" = ${connectionId}::uuid
              AND "objectType" = ${objectType} AND "attributeKey" = ${key}
              AND "mappingSignature" <> ${signature}`;
          await tx.$executeRaw`
            INSERT INTO "RefusedAttribute" ("connectionId", "objectType", "attributeKey", attribute, "scimType",
              detail, request, "mappingSignature")
            VALUES (${connectionId}::uuid, ${objectType}, ${key}, ${refusal.attribute}, ${refusal.scimType},
              ${refusal.detail.slice(0, 2000)}, ${refusal.request.slice(0, 2000)}, ${signature})
            ON CONFLICT ("connectionId", "objectType", "attributeKey") DO UPDATE SET
              "scimType" = EXCLUDED."scimType", detail = EXCLUDED.detail, request = EXCLUDED.request,
              "lastRefusedAt" = now()`;
        }
        await tx.$executeRaw`
          INSERT INTO "RefusedAttributeObject" ("connectionId", "objectType", "attributeKey", "sourceId")
          SELECT ${connectionId}::uuid, ${objectType}, ${key}, ${sourceId}
          WHERE EXISTS (SELECT 1 FROM "RefusedAttribute" WHERE "connectionId" = ${connectionId}::uuid
            AND "objectType" = ${objectType} AND "attributeKey" = ${key})
          ON CONFLICT DO NOTHING`;
      });
      refused.add(`${objectType}|${key}`);
    },
  };
}

export interface RefusedAttributeView {
  objectType: string;
  attribute: string;
  scimType: string | null;
  detail: string;
  request: string;
  firstRefusedAt: Date;
  lastRefusedAt: Date;
  affectedObjects: number;
  /** "Dialpad refuses officeName: 37 users affected". */
  summary: string;
  recommendedAction: string;
}

/** The refusals that hold now, for the connection's status (overview, status API). */
export async function listRefusedAttributes(
  db: PrismaClient,
  connectionId: string,
  config: TMappingConfig,
  now = new Date(),
): Promise<RefusedAttributeView[]> {
  const rows = await db.refusedAttribute.findMany({
    where: { connectionId },
    include: { _count: { select: { objects: true } } },
    orderBy: { firstRefusedAt: "asc" },
  });
  return rows
    .filter((row) => holds(row, config, now))
    .map((row) => {
      const noun = row.objectType === "User" ? "user" : "group";
      const affected = row._count.objects;
      return {
        objectType: row.objectType,
        attribute: row.attribute,
        scimType: row.scimType,
        detail: row.detail,
        request: row.request,
        firstRefusedAt: row.firstRefusedAt,
        lastRefusedAt: row.lastRefusedAt,
        affectedObjects: affected,
        summary: `Dialpad refuses ${row.attribute}: ${affected} ${noun}${affected === 1 ? "" : "s"} affected`,
        recommendedAction: refusalAdvice(row.attribute),
      };
    });
}
