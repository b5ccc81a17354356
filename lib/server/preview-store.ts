import type { Connection, Prisma, PrismaClient } from "../db/generated/client";
import type { SecretBox } from "../crypto/secrets";
import type { CycleOutcome } from "../sync/cycle";
import type { PlannedMembership, PlannedOperation } from "../sync/plan";
import {
  createImpactTally,
  isActionable,
  preflightChecks,
  reenables,
  toPreviewOperation,
  type PreflightCheck,
  type PreviewImpact,
  type PreviewOperation,
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
 * Keeps a dry run's whole plan as a preview, written while it is planned: every operation that would
 * send something (or fails, or is a group rename Dialpad refuses) with its fingerprint and old → new
 * values as rows, then the member changes, the Dialpad impact and the pre-flight checks. The preview
 * becomes "ready" (visible) only in `finish`; a newer preview of the same connection supersedes it.
 */
export function previewPlanWriter(db: PrismaClient, previewId: string) {
  const tally = createImpactTally();
  let written = 0;
  let unchanged = 0;
  /** Objects whose planned update takes a licence again (few; kept to undo one that is withdrawn). */
  const reenabling = new Set<string>();
  let cleared = false;
  const clearEarlierAttempt = async () => {
    if (cleared) return;
    cleared = true;
    await db.$executeRaw`DELETE FROM "PlanPreviewOperation" WHERE "previewId" = ${previewId}::uuid`;
    await db.$executeRaw`DELETE FROM "PlanPreviewMembership" WHERE "previewId" = ${previewId}::uuid`;
  };
  return {
    async write(planned: readonly PlannedOperation[]) {
      await clearEarlierAttempt();
      const shown = planned.filter(
        (operation) =>
          isActionable(operation) || operation.kind === "fail" || operation.renameRefused !== undefined,
      );
      unchanged += planned.length - shown.length;
      for (const operation of planned.filter(reenables))
        reenabling.add(`${operation.objectType}:${operation.sourceId}`);
      const operations = shown.map(toPreviewOperation);
      for (const operation of operations) tally.add(operation);
      for (let offset = 0; offset < operations.length; offset += ROWS_PER_INSERT) {
        const batch = operations.slice(offset, offset + ROWS_PER_INSERT);
        await db.$executeRaw`
          INSERT INTO "PlanPreviewOperation" ("previewId", seq, kind, fingerprint, data)
          SELECT ${previewId}::uuid, ${written}::int + item.n::int, item.value->>'kind', item.value->>'fingerprint', item.value
          FROM jsonb_array_elements(${JSON.stringify(batch)}::jsonb) WITH ORDINALITY AS item(value, n)`;
        written += batch.length;
      }
    },
    async withdraw(objectType: string, sourceId: string) {
      const [row] = await db.$queryRaw<{ data: PreviewOperation }[]>`
        DELETE FROM "PlanPreviewOperation"
        WHERE "previewId" = ${previewId}::uuid AND data->>'objectType' = ${objectType} AND data->>'sourceId' = ${sourceId}
        RETURNING data`;
      if (row) tally.remove(row.data);
      else unchanged -= 1;
      reenabling.delete(`${objectType}:${sourceId}`);
    },
    async finish(
      box: SecretBox,
      connection: Connection,
      input: { cycleId: string; outcome: CycleOutcome; now: Date },
    ): Promise<void> {
      await clearEarlierAttempt();
      const { outcome } = input;
      for (let offset = 0; offset < outcome.memberships.length; offset += ROWS_PER_INSERT) {
        const batch = outcome.memberships.slice(offset, offset + ROWS_PER_INSERT);
        await db.$executeRaw`
          INSERT INTO "PlanPreviewMembership" ("previewId", seq, data)
          SELECT ${previewId}::uuid, ${offset}::int + item.n::int, item.value
          FROM jsonb_array_elements(${JSON.stringify(batch)}::jsonb) WITH ORDINALITY AS item(value, n)`;
      }
      const impact = tally.result(outcome.memberships, reenabling.size);
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
        unchanged,
        needsApproval: connection.requireApprovalForDeletions && impact.disablesOrDeletes > 0,
      };
      await db.$transaction([
        db.planPreview.updateMany({
          where: { connectionId: connection.id, status: "ready", id: { not: previewId } },
          data: { status: "superseded" },
        }),
        db.planPreview.update({
          where: { id: previewId },
          data: {
            status: "ready",
            cycleId: input.cycleId,
            readyAt: input.now,
            summary: summary as unknown as Prisma.InputJsonValue,
          },
        }),
      ]);
    },
  };
}

export type PreviewPlanWriter = ReturnType<typeof previewPlanWriter>;

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
