import type { Connection, Prisma, PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import type { CycleOutcome } from "../sync/cycle";
import type { PlannedMembership } from "../sync/plan";
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
  // The rows first, a batch per statement; the preview becomes "ready" (visible) only once all are in.
  await db.$executeRaw`DELETE FROM "PlanPreviewOperation" WHERE "previewId" = ${input.previewId}::uuid`;
  await db.$executeRaw`DELETE FROM "PlanPreviewMembership" WHERE "previewId" = ${input.previewId}::uuid`;
  for (let offset = 0; offset < operations.length; offset += ROWS_PER_INSERT) {
    const batch = operations.slice(offset, offset + ROWS_PER_INSERT);
    await db.$executeRaw`
      INSERT INTO "PlanPreviewOperation" ("previewId", seq, kind, fingerprint, data)
      SELECT ${input.previewId}::uuid, ${offset}::int + item.n::int, item.value->>'kind', item.value->>'fingerprint', item.value
      FROM jsonb_array_elements(${JSON.stringify(batch)}::jsonb) WITH ORDINALITY AS item(value, n)`;
  }
  for (let offset = 0; offset < outcome.memberships.length; offset += ROWS_PER_INSERT) {
    const batch = outcome.memberships.slice(offset, offset + ROWS_PER_INSERT);
    await db.$executeRaw`
      INSERT INTO "PlanPreviewMembership" ("previewId", seq, data)
      SELECT ${input.previewId}::uuid, ${offset}::int + item.n::int, item.value
      FROM jsonb_array_elements(${JSON.stringify(batch)}::jsonb) WITH ORDINALITY AS item(value, n)`;
  }
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
      },
    }),
  ]);
}

const ROWS_PER_INSERT = 1_000;

/** What applying a preview sends: the fingerprints of its operations and its member changes. */
export async function loadApprovedPlan(
  db: PrismaClient,
  previewId: string,
): Promise<{ fingerprints: string[]; memberships: PlannedMembership[] }> {
  const [operations, memberships] = await Promise.all([
    db.planPreviewOperation.findMany({ where: { previewId }, select: { fingerprint: true } }),
    db.planPreviewMembership.findMany({
      where: { previewId },
      orderBy: { seq: "asc" },
      select: { data: true },
    }),
  ]);
  return {
    fingerprints: operations.map((row) => row.fingerprint),
    memberships: memberships.map((row) => row.data as unknown as PlannedMembership),
  };
}
