import { Prisma, type Connection } from "../db/generated/client";
import { enqueueWebhookEvent } from "../notify/webhook-events";
import type { Mailer } from "../notify/mailer";
import { sendNotification } from "../notify/notifications";
import { nextQuarantineState, type QuarantineReason } from "../sync/quarantine";
import { recordAudit } from "./audit";
import { type Writer } from "./cycle-store";
import { SYSTEM, type RunCycleOptions } from "./cycle-peers";

/**
 * The connection's quarantine (Entra's synchronizationStatus.quarantine): moved by each cycle's outcome, with
 * its e-mail, webhook and audit entry.
 */

/**
 * Moves the connection's quarantine to what this cycle implies (reason null ends it), sends the one
 * e-mail per quarantine and per change of reason, and turns provisioning off after four weeks.
 */
export async function applyQuarantine(
  write: Writer,
  connection: Connection,
  reason: QuarantineReason | null,
  context: {
    now: Date;
    detail?: string;
    held?: { count: number; threshold: number; sample: string[]; reason?: string };
    mailer: Mailer | null;
    cycleId: string;
    log?: RunCycleOptions["log"];
  },
): Promise<{ reason: string; nextAttempt: Date | null } | null> {
  if (reason === null && connection.quarantineReason === null) return null;
  const decision = nextQuarantineState(
    {
      reason: connection.quarantineReason,
      seriesBegan: connection.quarantineSeriesBegan,
      currentBegan: connection.quarantineCurrentBegan,
      nextAttempt: connection.quarantineNextAttempt,
      seriesCount: connection.quarantineSeriesCount,
      notifiedReason: connection.quarantineNotifiedReason,
    },
    reason,
    context.now,
  );
  let notifiedReason = decision.state.notifiedReason;
  if (decision.notify && reason) {
    const sent = await sendNotification(
      context.mailer,
      connection.notificationEmail,
      "quarantine",
      {
        connectionName: connection.name,
        connectionId: connection.id,
        cycleId: context.cycleId,
        reason,
        detail: context.detail,
        nextAttempt: decision.state.nextAttempt,
        held: context.held,
      },
      context.log,
    );
    if (sent) notifiedReason = reason;
  }
  await write(async (tx) => {
    await tx.connection.update({
      where: { id: connection.id },
      data: {
        quarantineReason: decision.state.reason,
        quarantineSeriesBegan: decision.state.seriesBegan,
        quarantineCurrentBegan: decision.state.currentBegan,
        quarantineNextAttempt: decision.state.nextAttempt,
        quarantineSeriesCount: decision.state.seriesCount,
        quarantineError: reason
          ? {
              reason,
              detail: context.detail ?? null,
              cycleId: context.cycleId,
              // Held by the source-shrink guard rather than the threshold: the console words it so.
              ...(context.held?.reason ? { sourceShrink: true } : {}),
            }
          : Prisma.DbNull,
        quarantineNotifiedReason: notifiedReason,
        ...(decision.disableProvisioning ? { provisioningEnabled: false } : {}),
      },
    });
    if (reason !== connection.quarantineReason) {
      await enqueueQuarantineWebhook(tx, connection, reason, {
        cycleId: context.cycleId,
        detail: context.detail ?? null,
        nextAttempt: decision.state.nextAttempt,
      });
      await recordAudit(tx, {
        connectionId: connection.id,
        activity: "Quarantine",
        principal: SYSTEM,
        result: reason ? "failure" : "success",
        changes: { quarantineReason: { before: connection.quarantineReason, after: reason } },
      });
    }
    if (decision.disableProvisioning) {
      await recordAudit(tx, {
        connectionId: connection.id,
        activity: "Disable/pause provisioning configuration",
        principal: SYSTEM,
        changes: {
          provisioningEnabled: { before: true, after: false },
          why: { before: null, after: "In quarantine for 28 days" },
        },
      });
    }
  });
  return reason ? { reason, nextAttempt: decision.state.nextAttempt } : null;
}

/** "quarantine.entered" for a new reason (also a change of reason), "quarantine.left" when it ends. */
export async function enqueueQuarantineWebhook(
  tx: Prisma.TransactionClient,
  connection: Pick<Connection, "id" | "quarantineReason">,
  reason: string | null,
  context: { cycleId?: string; detail?: string | null; nextAttempt?: Date | null; why?: string },
) {
  if (reason) {
    await enqueueWebhookEvent(tx, connection.id, "quarantine.entered", {
      reason,
      previousReason: connection.quarantineReason,
      detail: context.detail ?? null,
      nextAttempt: context.nextAttempt ?? null,
      cycleId: context.cycleId ?? null,
    });
  } else if (connection.quarantineReason) {
    await enqueueWebhookEvent(tx, connection.id, "quarantine.left", {
      previousReason: connection.quarantineReason,
      why: context.why ?? "A cycle ran without the quarantine condition.",
      cycleId: context.cycleId ?? null,
    });
  }
}

export function clearedQuarantine() {
  return {
    quarantineReason: null,
    quarantineSeriesBegan: null,
    quarantineCurrentBegan: null,
    quarantineNextAttempt: null,
    quarantineSeriesCount: 0,
    quarantineError: Prisma.DbNull,
    quarantineNotifiedReason: null,
  };
}
