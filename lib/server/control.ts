import type { PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import { getProvisioningState, startProvisioning, stopProvisioning } from "../jobs/schedule";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { AppError } from "./errors";

/** Graph's synchronizationStatus.code, which admins know from Entra. */
export type StatusCode = "NotConfigured" | "NotRun" | "Active" | "Paused" | "Quarantine";

export async function getStatus(db: PrismaClient, connectionId: string) {
  const connection = await getConnection(db, connectionId);
  const state = await getProvisioningState(db, connectionId);
  const lastCycle = await db.cycle.findFirst({ where: { connectionId }, orderBy: { startedAt: "desc" } });
  const lastFinished = await db.cycle.findFirst({
    where: { connectionId, endedAt: { not: null } },
    orderBy: { startedAt: "desc" },
  });
  const isConfigured = Boolean(connection.tenantUrl && connection.secretTokenCipher);
  const code: StatusCode = !isConfigured
    ? "NotConfigured"
    : connection.quarantineReason
      ? "Quarantine"
      : !connection.provisioningEnabled || connection.paused
        ? lastCycle
          ? "Paused"
          : "NotRun"
        : lastCycle
          ? "Active"
          : "NotRun";
  const current = state?.currentCycle?.status === "running" ? state.currentCycle : null;
  const running = current ? await db.cycle.findUnique({ where: { id: current.id } }) : null;
  const heldChanges = await db.heldChange.count({ where: { connectionId } });
  return {
    code,
    provisioningEnabled: connection.provisioningEnabled,
    paused: connection.paused,
    currentCycle: running
      ? {
          id: running.id,
          type: running.type,
          startedAt: running.startedAt.toISOString(),
          stopRequested: running.stopRequested,
          progress: {
            completedUnits: running.completedUnits,
            totalUnits: running.totalUnits,
            units: "pages",
          },
        }
      : null,
    lastExecution: lastFinished
      ? {
          cycleId: lastFinished.id,
          type: lastFinished.type,
          state: lastFinished.status,
          timeBegan: lastFinished.startedAt.toISOString(),
          timeEnded: lastFinished.endedAt?.toISOString() ?? null,
          counts: lastFinished.counts,
          error: lastFinished.error,
        }
      : null,
    nextCycleAt: state?.nextCycleAt?.toISOString() ?? null,
    quarantine: connection.quarantineReason
      ? {
          reason: connection.quarantineReason,
          seriesBegan: connection.quarantineSeriesBegan?.toISOString() ?? null,
          currentBegan: connection.quarantineCurrentBegan?.toISOString() ?? null,
          nextAttempt: connection.quarantineNextAttempt?.toISOString() ?? null,
          seriesCount: connection.quarantineSeriesCount,
          error: connection.quarantineError,
        }
      : null,
    heldDeletions: heldChanges,
    jobId: lastCycle?.jobId ?? null,
    cycleId: lastCycle?.id ?? null,
  };
}

export async function start(db: PrismaClient, principal: Principal, connectionId: string) {
  const connection = await getConnection(db, connectionId);
  if (!connection.tenantUrl || !connection.secretTokenCipher) {
    throw new AppError(
      "not_configured",
      "Enter the tenant URL and secret token and test the connection before starting provisioning.",
    );
  }
  const result = await startProvisioning(db, connectionId);
  await recordAudit(db, {
    connectionId,
    activity: "Enable/start provisioning configuration",
    principal,
    changes: { outcome: { before: null, after: result.outcome } },
  });
  return result.outcome === "already-running"
    ? { outcome: result.outcome, cycleId: result.cycleId }
    : { outcome: result.outcome };
}

export async function stop(db: PrismaClient, principal: Principal, connectionId: string) {
  await getConnection(db, connectionId);
  const result = await stopProvisioning(db, connectionId);
  await recordAudit(db, {
    connectionId,
    activity: "Disable/pause provisioning configuration",
    principal,
    changes: { stoppingCycleId: { before: null, after: result.stoppingCycleId } },
  });
  return { stoppingCycleId: result.stoppingCycleId, cancelledUnits: result.cancelledUnits };
}
