import type { PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import { nameAuditObject, recordAudit } from "./audit";
import { AppError } from "./errors";
import { provisionOnDemandNow, type OnDemandResponse } from "./on-demand";
import { sourceNames } from "./on-demand-audited";

/**
 * Replay: retries one failed change now, re-planned from the current source data through the
 * on-demand pipeline (what the object needs today, not a stale payload), and records the run as a new
 * log entry that links to the failed one.
 */
export async function replayLogEntry(
  db: PrismaClient,
  connectionId: string,
  logId: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<OnDemandResponse & { jobId: string; replayOf: string }> {
  const entry = await db.provisioningLog.findFirst({ where: { id: logId, connectionId } });
  if (!entry) throw new AppError("not_found", `No log entry ${logId} for this connection.`);
  if (entry.status !== "Failure")
    throw new AppError("conflict", `Only a failed change can be retried; this one is ${entry.status}.`);
  if (!entry.sourceId || (entry.objectType !== "User" && entry.objectType !== "Group"))
    throw new AppError("conflict", "This entry names no Microsoft Entra object to provision again.");
  const auditId = await recordAudit(db, {
    connectionId,
    activity: "Replay a failed change",
    principal,
    object: { type: entry.objectType, id: entry.sourceId, displayName: entry.sourceDisplayName },
    changes: { replayOf: { before: null, after: entry.id }, object: { before: null, after: entry.sourceId } },
  });
  const result = await provisionOnDemandNow(db, {
    connectionId,
    subject: { objectId: entry.sourceId, objectTypeName: entry.objectType },
    initiatedBy: principal.upn,
    replayOf: entry.id,
  });
  await nameAuditObject(db, auditId, sourceNames(result));
  return { ...result, replayOf: entry.id };
}
