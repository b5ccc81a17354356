import type { Prisma, PrismaClient, ReconcileFinding } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import type { PlannedChange } from "../contracts/reconcile";
import { recordAudit } from "./audit";
import { AppError } from "./errors";

/**
 * Adopting an orphan (a link written, nothing sent to Dialpad) and the provisioning log entry of a
 * reconcile action that is not a provisioning run (suspensions, adoptions).
 */

export interface ApplyTally {
  succeeded: number;
  failed: number;
  skipped: number;
  failures: string[];
}

export async function adoptOrphan(
  db: PrismaClient,
  connectionId: string,
  orphan: ReconcileFinding,
  sourceId: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<ApplyTally> {
  const targetId = orphan.targetId!;
  const objectType = orphan.objectType === "Group" ? "Group" : "User";
  const noun = objectType === "Group" ? "group" : "user";
  await db.$transaction(async (tx) => {
    const existing = await tx.objectLink.findFirst({
      where: { connectionId, objectType, OR: [{ sourceId }, { targetId }] },
    });
    if (existing)
      throw new AppError(
        "conflict",
        existing.sourceId === sourceId
          ? `Entra ${noun} ${sourceId} is already linked to Dialpad ${noun} ${existing.targetId}.`
          : `Dialpad ${noun} ${targetId} is already linked to Entra ${noun} ${existing.sourceId}.`,
      );
    // No hash: the next cycle compares the adopted account with the desired state and updates it.
    await tx.objectLink.create({
      data: {
        connectionId,
        objectType,
        sourceId,
        targetId,
        displayName: orphan.sourceName ?? orphan.targetName,
        exportedHash: null,
        active: orphan.targetActive ?? true,
      },
    });
    await tx.reconcileFinding.delete({ where: { seq: orphan.seq } });
    await recordAudit(tx, {
      connectionId,
      activity: "Reconcile action",
      principal,
      changes: {
        action: { before: null, after: "Adopt orphan" },
        link: { before: null, after: `${sourceId} → ${targetId}` },
      },
    });
  });
  await writeActionLog(
    db,
    connectionId,
    crypto.randomUUID(),
    principal,
    {
      objectType,
      targetId,
      targetName: orphan.targetName,
      sourceId,
      changes: [{ attribute: "link", from: null, to: sourceId }],
    },
    {
      action: "Other",
      status: "Success",
      description: `Linked Dialpad ${noun} ${orphan.targetName ?? targetId} to Entra ${noun} ${sourceId} (reconcile adopt); the next cycle updates it`,
      durationMs: 0,
    },
  );
  return { succeeded: 1, failed: 0, skipped: 0, failures: [] };
}

export async function writeActionLog(
  db: PrismaClient,
  connectionId: string,
  changeId: string,
  principal: Pick<Principal, "upn">,
  item: Pick<PlannedChange, "targetId" | "targetName" | "sourceId" | "changes"> & {
    objectType?: "User" | "Group";
  },
  entry: {
    action: "Disable" | "Other";
    status: "Success" | "Failure";
    description: string;
    durationMs: number;
    errorReason?: string;
  },
): Promise<void> {
  await db.provisioningLog.create({
    data: {
      connectionId,
      changeId,
      action: entry.action,
      status: entry.status,
      objectType: item.objectType ?? "User",
      sourceId: item.sourceId,
      targetId: item.targetId,
      targetDisplayName: item.targetName,
      modifiedProperties: item.changes.map((c) => ({
        displayName: c.attribute,
        oldValue: c.from,
        newValue: c.to,
      })) as Prisma.InputJsonValue,
      steps: [
        {
          name: "ReconcileAction",
          type: "Export",
          status: entry.status === "Success" ? "success" : "failure",
          description: entry.description,
          timestamp: new Date().toISOString(),
          details: {},
        },
      ] as Prisma.InputJsonValue,
      errorCode: entry.status === "Failure" ? "ReconcileActionFailed" : null,
      errorCategory: entry.status === "Failure" ? "failure" : null,
      errorReason: entry.errorReason ?? null,
      durationMs: entry.durationMs,
      initiatedBy: principal.upn,
    },
  });
}
