import { z } from "zod";
import type { StatusCode } from "../contracts/status";
import type { PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import {
  getProvisioningState,
  restartProvisioning,
  startProvisioning,
  stopProvisioning,
} from "../cycle/schedule";
import type { SecretBox } from "../crypto/secrets";
import {
  allowDeletes as executeHeldDeletes,
  applyRestartCriteria,
  type RestartCriterion,
} from "./held-changes";
import { getProvisioningStatus } from "./provisioning-status";
import { getContinuousState } from "../cycle/continuous";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { AppError } from "./errors";

const ZConfigurationFailure = z.object({
  category: z.literal("configuration"),
  message: z.string(),
  attribute: z.string(),
  recommendedAction: z.string(),
  field: z.string().optional(),
});

/**
 * Why the last cycle failed when the configuration is at fault: the console shows "Failed — configuration"
 * with the attribute and what to do, since no retry or schedule fixes it.
 */
function configurationFailureOf(
  lastCycle: { status: string; error: unknown } | null,
): z.infer<typeof ZConfigurationFailure> | null {
  if (lastCycle?.status !== "failed") return null;
  const parsed = ZConfigurationFailure.safeParse(lastCycle.error);
  return parsed.success ? parsed.data : null;
}

/**
 * Entra's "Current status": the engine's status (quarantine, last cycles, held changes, escrows, counts
 * by type) plus what the job store knows (the cycle running now with its progress, the next one).
 */
export async function getStatus(db: PrismaClient, connectionId: string) {
  const connection = await getConnection(db, connectionId);
  const [status, state, continuous] = await Promise.all([
    getProvisioningStatus(db, connectionId),
    getProvisioningState(db, connectionId),
    getContinuousState(db, connectionId),
  ]);
  const running =
    state?.currentCycle?.status === "running"
      ? await db.cycle.findUnique({ where: { id: state.currentCycle.id }, omit: { handover: true } })
      : null;
  // Before the first Start there is nothing to pause: Graph calls that state NotRun.
  const code: StatusCode = status.code === "Paused" && !status.lastCycle ? "NotRun" : status.code;
  return {
    ...status,
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
    nextCycleAt: state?.nextCycleAt?.toISOString() ?? null,
    schedule: {
      mode: continuous?.scheduleMode ?? "interval",
      lastPollAt: continuous?.lastPollAt?.toISOString() ?? null,
      lastPollError: continuous?.lastPollError ?? null,
      nextPollAt: continuous?.nextPollAt?.toISOString() ?? null,
      lastChange: continuous?.lastChange
        ? {
            seenAt: continuous.lastChange.seenAt.toISOString(),
            reachedDialpadAt: continuous.lastChange.reachedDialpadAt?.toISOString() ?? null,
            writes: continuous.lastChange.writes,
          }
        : null,
    },
    jobId: status.lastCycle
      ? ((await db.cycle.findUnique({ where: { id: status.lastCycle.id }, select: { jobId: true } }))
          ?.jobId ?? null)
      : null,
    cycleId: status.lastCycle?.id ?? null,
    configurationFailure: configurationFailureOf(status.lastCycle),
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

export async function restart(
  db: PrismaClient,
  box: SecretBox,
  principal: Principal,
  connectionId: string,
  criteria: RestartCriterion[],
) {
  await getConnection(db, connectionId);
  const reset = await applyRestartCriteria(db, connectionId, criteria, { box, initiatedBy: principal });
  const queued = await restartProvisioning(db, connectionId);
  return { ...reset, outcome: queued.outcome };
}

export async function allowDeletes(
  db: PrismaClient,
  box: SecretBox,
  principal: Principal,
  connectionId: string,
) {
  await getConnection(db, connectionId);
  return executeHeldDeletes(db, connectionId, { box, initiatedBy: principal });
}
