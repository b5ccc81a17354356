import { COMPLETED_CYCLE_STATUSES } from "../cycle/outcome";
import { type PrismaClient } from "../db/generated/client";
import { listRefusedAttributes, type RefusedAttributeView } from "./refused-attributes";
import { getConnection } from "./connections";
import { MEMBERSHIP_LINK_TYPE } from "./cycle-store";
import { loadMappingConfig } from "./mappings";
import { emptyCounts } from "../sync/execute";

/** What the console and the status API show for a connection's provisioning (Entra's "Current status"). */

export interface ProvisioningStatus {
  /** Graph synchronizationStatus.code. */
  code: "NotConfigured" | "NotRun" | "Active" | "Paused" | "Quarantine";
  quarantine: {
    reason: string;
    currentBegan: Date | null;
    seriesBegan: Date | null;
    nextAttempt: Date | null;
    seriesCount: number;
    error: unknown;
  } | null;
  lastCycle: {
    id: string;
    type: string;
    status: string;
    dryRun: boolean;
    trigger: string;
    startedAt: Date;
    endedAt: Date | null;
    completedUnits: number;
    totalUnits: number;
    counts: unknown;
    /** True while the cycle runs: `counts` are then what its provisioning log holds so far. */
    countsSoFar: boolean;
    error: unknown;
    /** Users Entra ID returned as assigned, against the last accepted cycle's (source-shrink guard). */
    sourceUsers: { read: number | null; before: number | null; held: boolean };
  } | null;
  lastSuccessfulCycle: { id: string; endedAt: Date | null; counts: unknown } | null;
  heldChanges: {
    count: number;
    sample: { objectType: string; sourceId: string; action: string; displayName: string | null }[];
  };
  escrows: { objects: number; references: number };
  /** Attributes Dialpad refuses, left out of every change (lib/server/refused-attributes.ts). */
  refusedAttributes: RefusedAttributeView[];
  /** Objects linked to Dialpad, by type (Entra's synchronizedEntryCountByType). */
  synchronizedEntryCountByType: { User: number; Group: number };
}

/** What the console shows for a connection's provisioning (Entra's "Current status"). */
export async function getProvisioningStatus(
  db: PrismaClient,
  connectionId: string,
): Promise<ProvisioningStatus> {
  const connection = await getConnection(db, connectionId);
  const [lastCycle, lastSuccessful, heldCount, heldSample, escrows, links, refusedAttributes] =
    await Promise.all([
      // Not the handover: the finalizer's input, none of the console's business.
      db.cycle.findFirst({
        where: { connectionId, dryRun: false },
        orderBy: { startedAt: "desc" },
        omit: { handover: true },
      }),
      db.cycle.findFirst({
        where: { connectionId, dryRun: false, status: { in: [...COMPLETED_CYCLE_STATUSES] } },
        orderBy: { startedAt: "desc" },
        omit: { handover: true },
      }),
      db.heldChange.count({ where: { connectionId } }),
      db.heldChange.findMany({ where: { connectionId }, take: 50, orderBy: { createdAt: "asc" } }),
      db.escrow.groupBy({ by: ["kind"], where: { connectionId }, _count: true }),
      db.objectLink.groupBy({
        by: ["objectType"],
        where: { connectionId, objectType: { not: MEMBERSHIP_LINK_TYPE } },
        _count: true,
      }),
      listRefusedAttributes(db, connectionId, loadMappingConfig(connection.mappings)),
    ]);
  const configured = Boolean(
    connection.tenantUrl && connection.secretTokenCipher && connection.graphClientId,
  );
  const code: ProvisioningStatus["code"] = !configured
    ? "NotConfigured"
    : connection.quarantineReason
      ? "Quarantine"
      : connection.paused || !connection.provisioningEnabled
        ? "Paused"
        : lastCycle
          ? "Active"
          : "NotRun";
  return {
    code,
    quarantine: connection.quarantineReason
      ? {
          reason: connection.quarantineReason,
          currentBegan: connection.quarantineCurrentBegan,
          seriesBegan: connection.quarantineSeriesBegan,
          nextAttempt: connection.quarantineNextAttempt,
          seriesCount: connection.quarantineSeriesCount,
          error: connection.quarantineError,
        }
      : null,
    lastCycle: lastCycle
      ? {
          id: lastCycle.id,
          type: lastCycle.type,
          status: lastCycle.status,
          dryRun: lastCycle.dryRun,
          trigger: lastCycle.trigger,
          startedAt: lastCycle.startedAt,
          endedAt: lastCycle.endedAt,
          completedUnits: lastCycle.completedUnits,
          totalUnits: lastCycle.totalUnits,
          // A running cycle's counts are written when it ends; until then, what its log says so far.
          counts: lastCycle.status === "running" ? await countsSoFar(db, lastCycle.id) : lastCycle.counts,
          countsSoFar: lastCycle.status === "running",
          error: lastCycle.error,
          sourceUsers: {
            read: lastCycle.sourceUsersRead,
            before: lastCycle.sourceUsersBefore,
            held: lastCycle.sourceShrinkHeld,
          },
        }
      : null,
    lastSuccessfulCycle: lastSuccessful
      ? { id: lastSuccessful.id, endedAt: lastSuccessful.endedAt, counts: lastSuccessful.counts }
      : null,
    heldChanges: {
      count: heldCount,
      sample: heldSample.map((row) => ({
        objectType: row.objectType,
        sourceId: row.sourceId,
        action: row.action,
        displayName: row.displayName,
      })),
    },
    escrows: {
      objects: escrows.find((row) => row.kind === "object")?._count ?? 0,
      references: escrows.find((row) => row.kind === "reference")?._count ?? 0,
    },
    refusedAttributes,
    synchronizedEntryCountByType: {
      User: links.find((row) => row.objectType === "User")?._count ?? 0,
      Group: links.find((row) => row.objectType === "Group")?._count ?? 0,
    },
  };
}

/**
 * A running cycle's counts as its provisioning log has them so far (units write their entries as they
 * go). Skipped is a lower bound: skips that say nothing about an object are counted at the end only.
 */
async function countsSoFar(db: PrismaClient, cycleId: string): Promise<Record<string, number>> {
  const rows = await db.provisioningLog.groupBy({
    by: ["action", "status"],
    where: { cycleId },
    _count: true,
  });
  // The same shape as the counts the cycle writes when it ends.
  const counts: Record<string, number> = { ...emptyCounts() };
  const done: Record<string, string> = {
    Create: "created",
    Update: "updated",
    Disable: "disabled",
    Delete: "deleted",
  };
  for (const row of rows) {
    const field =
      row.status === "Failure"
        ? "failed"
        : row.status === "Skipped"
          ? "skipped"
          : row.status === "Success" || row.status === "Warning"
            ? done[row.action]
            : undefined;
    if (field) counts[field] = (counts[field] ?? 0) + row._count;
  }
  return counts;
}
