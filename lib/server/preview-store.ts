import type { Connection, Prisma, PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import type { CycleOutcome } from "../sync/cycle";
import {
  isActionable,
  preflightChecks,
  previewImpact,
  reenables,
  toPreviewOperation,
  type PreflightCheck,
  type PreviewImpact,
} from "../sync/preview";
import { dialpadOfficesFor } from "./peers";

export interface PreviewSummary {
  cycleType: "initial" | "incremental";
  impact: PreviewImpact;
  preflight: PreflightCheck[];
  /** Objects that need nothing (already in step, out of scope and absent, ...). */
  unchanged: number;
  /** The connection requires approval of deletions and this plan disables or deletes something. */
  needsApproval: boolean;
}

/**
 * Keeps a dry run's whole plan as a preview: every operation that would send something (or fails, or is
 * a group rename Dialpad refuses) with its fingerprint and old → new values, the member changes, the
 * Dialpad impact and the pre-flight checks. A newer preview of the same connection supersedes it.
 */
export async function savePreviewPlan(
  db: PrismaClient,
  box: SecretBox,
  connection: Connection,
  input: { previewId: string; cycleId: string; outcome: CycleOutcome; now: Date },
): Promise<void> {
  const { outcome } = input;
  const shown = outcome.plan.filter(
    (operation) =>
      isActionable(operation) || operation.kind === "fail" || operation.renameRefused !== undefined,
  );
  const operations = shown.map(toPreviewOperation);
  const impact = previewImpact(operations, outcome.memberships, outcome.plan.filter(reenables).length);
  let dialpadOffices: string[] | null = null;
  let officesError: string | undefined;
  try {
    dialpadOffices = await dialpadOfficesFor(connection, box);
  } catch (error) {
    officesError = error instanceof Error ? error.message : String(error);
  }
  const summary: PreviewSummary = {
    cycleType: outcome.cycleType,
    impact,
    preflight: preflightChecks({
      impact,
      dialpadOffices,
      officesError,
      secretTokenExpiresAt: connection.secretTokenExpiresAt,
      now: input.now,
    }),
    unchanged: outcome.plan.length - shown.length,
    needsApproval: connection.requireApprovalForDeletions && impact.disablesOrDeletes > 0,
  };
  await db.$transaction([
    db.planPreview.updateMany({
      where: { connectionId: connection.id, status: "ready", id: { not: input.previewId } },
      data: { status: "superseded" },
    }),
    db.planPreview.update({
      where: { id: input.previewId },
      data: {
        status: "ready",
        cycleId: input.cycleId,
        readyAt: input.now,
        summary: summary as unknown as Prisma.InputJsonValue,
        operations: operations as unknown as Prisma.InputJsonValue,
        memberships: outcome.memberships as unknown as Prisma.InputJsonValue,
      },
    }),
  ]);
}
