import { enqueuePoll } from "../cycle/continuous";
import { type PrismaClient } from "../db/generated/client";
import { SecretBox } from "../crypto/secrets";
import { executeHeldChanges } from "../sync/execute";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { prismaCycleStore, toHeldRecord } from "./cycle-store";
import { scimClientFor } from "./peers";
import { SYSTEM, limiterFor, metricsFor, defaultBox } from "./cycle-peers";
import { enqueueQuarantineWebhook, clearedQuarantine } from "./quarantine-state";

/** The admin's answers to a held cycle and to a stuck one: Allow deletes, and Entra's restart criteria. */

/**
 * "Allow deletes": runs the disables and deletes held by accidental-deletions prevention, then leaves the
 * TooManyDeletes quarantine. Failures are escrowed and retried by the next cycle like any other.
 */
export async function allowDeletes(
  db: PrismaClient,
  connectionId: string,
  options: {
    box?: SecretBox;
    initiatedBy?: { objectId: string; upn: string };
    requestsPerSecond?: number;
  } = {},
): Promise<{ executed: number; failed: number }> {
  const connection = await getConnection(db, connectionId);
  const rows = await db.heldChange.findMany({ where: { connectionId }, orderBy: { createdAt: "asc" } });
  if (rows.length === 0) return { executed: 0, failed: 0 };
  const actor = options.initiatedBy ?? SYSTEM;
  const store = prismaCycleStore(db, {
    connectionId,
    cycleId: rows[0]!.cycleId,
    jobId: null,
    initiatedBy: actor.upn,
  });
  const scim = await scimClientFor(connection, options.box ?? defaultBox(), {
    limiter: limiterFor(db, connectionId, options),
    onExchange: metricsFor(connectionId),
  });
  const { counts, logs } = await executeHeldChanges({ scim, store }, rows.map(toHeldRecord));
  await store.writeLogs(logs);
  await db.$transaction(async (tx) => {
    await tx.heldChange.deleteMany({ where: { connectionId, id: { in: rows.map((row) => row.id) } } });
    if (connection.quarantineReason === "TooManyDeletes") {
      await tx.connection.update({ where: { id: connectionId }, data: clearedQuarantine() });
      await enqueueQuarantineWebhook(tx, connection, null, { why: `Allow deletes by ${actor.upn}.` });
      // Out of quarantine: a continuous connection looks at Entra ID again now, not at the retry's time.
      await enqueuePoll(tx, connectionId);
    }
    await recordAudit(tx, {
      connectionId,
      activity: "Allow deletes",
      principal: actor,
      result: counts.failed ? "failure" : "success",
      changes: { held: { before: rows.length, after: 0 }, failed: { before: null, after: counts.failed } },
    });
  });
  return { executed: counts.disabled + counts.deleted, failed: counts.failed };
}

export type RestartCriterion = "Watermark" | "Escrows" | "QuarantineState" | "Full" | "ForceDeletes";

/**
 * Entra's restart criteria (synchronizationJobRestartCriteria). Empty = the portal's Restart: clear the
 * watermark, escrows and quarantine, keep the links. Full also breaks the links (every object is matched
 * again). ForceDeletes runs the held deletions; any other restart discards them, so the next cycle
 * evaluates them afresh. Queuing the cycle itself is lib/jobs `restartProvisioning`'s job.
 */
export async function applyRestartCriteria(
  db: PrismaClient,
  connectionId: string,
  criteria: readonly RestartCriterion[],
  options: { box?: SecretBox; initiatedBy?: { objectId: string; upn: string } } = {},
): Promise<{
  applied: RestartCriterion[];
  deletesExecuted: number;
  heldDiscarded: number;
  linksRemoved: number;
}> {
  const before = await getConnection(db, connectionId);
  const wanted = new Set<RestartCriterion>(
    criteria.length ? criteria : ["Watermark", "Escrows", "QuarantineState"],
  );
  if (wanted.has("Full"))
    for (const implied of ["Watermark", "Escrows", "QuarantineState"] as const) wanted.add(implied);
  let deletesExecuted = 0;
  if (wanted.has("ForceDeletes")) deletesExecuted = (await allowDeletes(db, connectionId, options)).executed;
  return db.$transaction(async (tx) => {
    const discarded = await tx.heldChange.deleteMany({ where: { connectionId } });
    let linksRemoved = 0;
    if (wanted.has("Full"))
      linksRemoved = (await tx.objectLink.deleteMany({ where: { connectionId } })).count;
    if (wanted.has("Escrows")) await tx.escrow.deleteMany({ where: { connectionId } });
    await tx.connection.update({
      where: { id: connectionId },
      data: {
        ...(wanted.has("Watermark") ? { usersDeltaLink: null, groupsDeltaLink: null } : {}),
        ...(wanted.has("QuarantineState") ? clearedQuarantine() : {}),
      },
    });
    if (wanted.has("QuarantineState")) {
      await enqueueQuarantineWebhook(tx, before, null, {
        why: `Restart by ${options.initiatedBy?.upn ?? SYSTEM.upn}.`,
      });
    }
    await recordAudit(tx, {
      connectionId,
      activity: "Enable/restart provisioning configuration",
      principal: options.initiatedBy ?? SYSTEM,
      changes: { criteria: { before: null, after: [...wanted].join(",") } },
    });
    return { applied: [...wanted], deletesExecuted, heldDiscarded: discarded.count, linksRemoved };
  });
}
