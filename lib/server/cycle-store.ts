import type { Prisma, PrismaClient } from "../db/generated/client";
import { recordPlanningProgress } from "../cycle/state";
import { isStopRequested } from "../cycle/units";
import type { JobLease } from "../jobs/lease";
import type { CycleLogEntry, CycleStore, EscrowRecord, HeldChangeRecord } from "../sync/cycle-ports";
import { escrowRetryAt, type ObjectType } from "../sync/plan";
import type { ObjectLinkRecord } from "../sync/ports";
import { prismaLinkStore, saveLinks, MEMBERSHIP_LINK_TYPE } from "./link-store";

export { MEMBERSHIP_LINK_TYPE };

function toLinkRecord(row: {
  objectType: string;
  sourceId: string;
  targetId: string;
  displayName: string | null;
  exportedHash: string | null;
  active: boolean;
}): ObjectLinkRecord {
  return {
    objectType: row.objectType as ObjectType,
    sourceId: row.sourceId,
    targetId: row.targetId,
    displayName: row.displayName,
    exportedHash: row.exportedHash,
    active: row.active,
  };
}

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Runs writes in one transaction under the job attempt's lease (lib/jobs/lease.ts), or in a plain
 * transaction when there is no job (an admin's request). An attempt that lost its lease gets
 * LeaseLostError and writes nothing.
 */
export type Writer = <T>(
  work: (tx: Prisma.TransactionClient) => Promise<T>,
  options?: { timeoutMs?: number },
) => Promise<T>;

export function writerFor(db: PrismaClient, lease: JobLease | null | undefined): Writer {
  if (lease) return (work, options) => lease.fenced(work, options);
  return (work, options) => db.$transaction(work, { timeout: options?.timeoutMs ?? 30_000, maxWait: 10_000 });
}

export function prismaCycleStore(
  db: PrismaClient,
  scope: { connectionId: string; cycleId: string | null; jobId: string | null; initiatedBy?: string },
  lease?: JobLease | null,
): CycleStore {
  const { connectionId } = scope;
  const write = writerFor(db, lease);
  // Every successful object clears its escrow, yet almost always there is none: one look at whether the
  // connection has any spares a delete per object. Escrows this store writes itself count too; others'
  // are for other objects (an object is in one unit of a cycle), so they never need clearing here.
  let escrowsMayExist: Promise<boolean> | true | undefined;
  return {
    async loadLinksFor(objectType, sourceIds) {
      if (sourceIds.length === 0) return [];
      const rows = await db.objectLink.findMany({
        where: { connectionId, objectType, sourceId: { in: [...sourceIds] } },
      });
      return rows.map(toLinkRecord);
    },
    async pageLinks(objectType, after, limit) {
      const rows = await db.objectLink.findMany({
        where: { connectionId, objectType, ...(after === null ? {} : { sourceId: { gt: after } }) },
        orderBy: { sourceId: "asc" },
        take: limit,
      });
      return rows.map(toLinkRecord);
    },
    saveLink: (link) => write((tx) => prismaLinkStore(tx, connectionId).save(link)),
    removeLink: (objectType, sourceId) =>
      write((tx) => prismaLinkStore(tx, connectionId).remove(objectType, sourceId)),
    async loadMemberships(groupSourceIds) {
      if (groupSourceIds && groupSourceIds.length === 0) return [];
      // A membership's sourceId is "group|user"; the group is matched on the part before the bar
      // rather than a LIKE prefix, which an index under a non-C collation cannot serve either. A
      // membership exported for an earlier Dialpad account of the user (deleted in Dialpad, then
      // created again) is not the new account's: it is left out, so the member is added again.
      const rows = await db.$queryRaw<{ sourceId: string }[]>`
        SELECT m."sourceId" FROM "ObjectLink" m
        LEFT JOIN "ObjectLink" u
          ON u."connectionId" = m."connectionId" AND u."objectType" = 'User'
         AND u."sourceId" = split_part(m."sourceId", '|', 2)
        WHERE m."connectionId" = ${connectionId}::uuid AND m."objectType" = ${MEMBERSHIP_LINK_TYPE}
          AND (${groupSourceIds === undefined}
               OR split_part(m."sourceId", '|', 1) = ANY(${[...(groupSourceIds ?? [])]}::text[]))
          AND (u."targetId" IS NULL OR u."targetId" = m."targetId")`;
      return rows.flatMap((row) => {
        const [groupSourceId, userSourceId] = row.sourceId.split("|");
        return groupSourceId && userSourceId ? [{ groupSourceId, userSourceId }] : [];
      });
    },
    async addMemberships(groupSourceId, members) {
      if (members.length === 0) return;
      const exportedAt = new Date();
      // An earlier account's membership is taken over by the new one (see loadMemberships).
      await write(
        (tx) => tx.$executeRaw`
          INSERT INTO "ObjectLink"
            ("connectionId", "objectType", "sourceId", "targetId", "lastExportedAt", "updatedAt")
          SELECT ${connectionId}::uuid, ${MEMBERSHIP_LINK_TYPE}, ${groupSourceId} || '|' || m."user", m."target",
                 ${exportedAt}, ${exportedAt}
          FROM unnest(${members.map((member) => member.userSourceId)}::text[],
                      ${members.map((member) => member.userTargetId)}::text[]) AS m("user", "target")
          ON CONFLICT ("connectionId", "objectType", "sourceId")
          DO UPDATE SET "targetId" = EXCLUDED."targetId", "lastExportedAt" = EXCLUDED."lastExportedAt",
                        "updatedAt" = EXCLUDED."updatedAt"`,
      );
    },
    async removeMemberships(groupSourceId, userSourceIds) {
      await write((tx) =>
        tx.objectLink.deleteMany({
          where: {
            connectionId,
            objectType: MEMBERSHIP_LINK_TYPE,
            sourceId: { in: userSourceIds.map((userSourceId) => `${groupSourceId}|${userSourceId}`) },
          },
        }),
      );
    },
    async removeMembershipsOf(objectType, sourceId) {
      await write((tx) =>
        tx.objectLink.deleteMany({
          where: {
            connectionId,
            objectType: MEMBERSHIP_LINK_TYPE,
            sourceId: objectType === "Group" ? { startsWith: `${sourceId}|` } : { endsWith: `|${sourceId}` },
          },
        }),
      );
    },
    async loadEscrows() {
      const rows = await db.escrow.findMany({ where: { connectionId } });
      return rows.map((row): EscrowRecord => ({
        objectType: row.objectType as ObjectType,
        sourceId: row.sourceId,
        kind: row.kind === "reference" ? "reference" : "object",
        attempts: row.attempts,
        nextRetryAt: row.nextRetryAt,
      }));
    },
    async escrow(entry) {
      escrowsMayExist = true;
      const now = new Date();
      const key = {
        connectionId_objectType_sourceId_kind: {
          connectionId,
          objectType: entry.objectType,
          sourceId: entry.sourceId,
          kind: entry.kind,
        },
      };
      return write(async (tx) => {
        const row = await tx.escrow.upsert({
          where: key,
          create: {
            connectionId,
            objectType: entry.objectType,
            sourceId: entry.sourceId,
            kind: entry.kind,
            attempts: 1,
            nextRetryAt: escrowRetryAt(1, now),
            lastErrorCode: entry.errorCode,
            lastError: entry.error.slice(0, 4000),
          },
          update: {
            attempts: { increment: 1 },
            lastErrorCode: entry.errorCode,
            lastError: entry.error.slice(0, 4000),
          },
        });
        if (row.attempts > 1)
          await tx.escrow.update({ where: key, data: { nextRetryAt: escrowRetryAt(row.attempts, now) } });
        return row.attempts;
      });
    },
    async clearEscrow(objectType, sourceId, kind) {
      escrowsMayExist ??= db.escrow
        .findFirst({ where: { connectionId }, select: { sourceId: true } })
        .then((row) => row !== null)
        .catch((error: unknown) => {
          escrowsMayExist = undefined;
          throw error;
        });
      if (!(await escrowsMayExist)) return;
      await write((tx) => tx.escrow.deleteMany({ where: { connectionId, objectType, sourceId, kind } }));
    },
    async loadHeldChanges() {
      const rows = await db.heldChange.findMany({ where: { connectionId }, orderBy: { createdAt: "asc" } });
      return rows.map(toHeldRecord);
    },
    async replaceHeldChanges(held) {
      const cycleId = scope.cycleId;
      await write(async (tx) => {
        await tx.heldChange.deleteMany({ where: { connectionId } });
        if (held.length && cycleId) {
          await tx.heldChange.createMany({
            data: held.map((change) => ({ connectionId, cycleId, ...change })),
          });
        }
      });
    },
    async writeLogs(entries) {
      if (entries.length) await write((tx) => writeProvisioningLogs(tx, scope, entries));
    },
    async record({ links, logs }) {
      if (links.length === 0 && logs.length === 0) return;
      await write(async (tx) => {
        await saveLinks(tx, connectionId, links);
        await writeProvisioningLogs(tx, scope, logs);
      });
    },
    async progress(completedUnits, totalUnits) {
      const cycleId = scope.cycleId;
      if (!cycleId) return;
      await write((tx) => recordPlanningProgress(tx, cycleId, completedUnits, totalUnits));
    },
    async stopRequested() {
      return scope.cycleId ? isStopRequested(db, scope.cycleId) : false;
    },
  };
}

export function toHeldRecord(row: {
  objectType: string;
  sourceId: string;
  targetId: string;
  action: string;
  displayName: string | null;
}): HeldChangeRecord {
  return {
    objectType: row.objectType as ObjectType,
    sourceId: row.sourceId,
    targetId: row.targetId,
    action: row.action === "Delete" ? "Delete" : "Disable",
    displayName: row.displayName,
  };
}

export async function writeProvisioningLogs(
  db: Db,
  scope: { connectionId: string; cycleId: string | null; jobId: string | null; initiatedBy?: string },
  entries: readonly CycleLogEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  // One JSON parameter expanded by PostgreSQL: a cycle writes an entry per object, and passing each
  // field of each entry through the ORM cost more CPU than the provisioning request it records.
  const rows = entries.map((entry) => ({
    changeId: entry.changeId,
    action: entry.action,
    status: entry.status,
    objectType: entry.objectType,
    sourceId: entry.sourceId,
    sourceDisplayName: entry.sourceDisplayName,
    targetId: entry.targetId,
    targetDisplayName: entry.targetDisplayName,
    modifiedProperties: entry.modifiedProperties,
    steps: entry.steps,
    errorCode: entry.errorCode ?? null,
    errorCategory: entry.errorCategory ?? null,
    errorReason: entry.errorReason ?? null,
    recommendedAction: entry.recommendedAction ?? null,
    durationMs: Math.round(entry.durationMs),
  }));
  await db.$executeRaw`
    INSERT INTO "ProvisioningLog" ("id", "connectionId", "cycleId", "jobId", "changeId", "action", "status",
      "objectType", "sourceId", "sourceDisplayName", "targetId", "targetDisplayName", "modifiedProperties",
      "steps", "errorCode", "errorCategory", "errorReason", "recommendedAction", "durationMs", "initiatedBy")
    SELECT gen_random_uuid(), ${scope.connectionId}::uuid, ${scope.cycleId}::uuid, ${scope.jobId}::uuid,
      e."changeId"::uuid, e."action", e."status", e."objectType", e."sourceId", e."sourceDisplayName",
      e."targetId", e."targetDisplayName", COALESCE(e."modifiedProperties", '[]'::jsonb),
      COALESCE(e."steps", '[]'::jsonb), e."errorCode", e."errorCategory", e."errorReason",
      e."recommendedAction", e."durationMs", ${scope.initiatedBy ?? "System"}
    FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) WITH ORDINALITY AS item(value, n),
      jsonb_to_record(item.value) AS e("changeId" text, "action" text, "status" text, "objectType" text,
        "sourceId" text, "sourceDisplayName" text, "targetId" text, "targetDisplayName" text,
        "modifiedProperties" jsonb, "steps" jsonb, "errorCode" text, "errorCategory" text,
        "errorReason" text, "recommendedAction" text, "durationMs" int)
    ORDER BY item.n`;
}
