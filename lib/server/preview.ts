import type { PlanPreview, Prisma, PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import { z } from "zod";
import type { SecretBox } from "../crypto/secrets";
import { defineJobKind } from "../jobs/kind";
import { enqueueJob } from "../jobs/store";
import type { PlannedMembership } from "../sync/plan";
import { membershipKeys, NOT_IN_PREVIEW, type PreviewOperation } from "../sync/preview";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { AppError } from "./errors";
import { runProvisioningCycle } from "./provisioning-cycle";
import { type RunCycleOptions } from "./cycle-peers";
import type { PreviewSummary } from "./preview-store";

export type PreviewStatus =
  "computing" | "ready" | "failed" | "applying" | "applied" | "discarded" | "superseded";

/** "Preview next cycle" (a stored dry run) and applying a reviewed preview, on a worker. */
export const planPreviewJob = defineJobKind(
  "plan-preview",
  z
    .object({
      connectionId: z.string().uuid(),
      previewId: z.string().uuid(),
      mode: z.enum(["compute", "apply"]),
    })
    .strict(),
);

/** Operations a page of the preview lists at most; the summary counts all of them. */
const PAGE_LIMIT = 500;

type PreviewHeader = Omit<PlanPreview, "operations" | "memberships">;
/** The plan itself can be tens of megabytes: pages of it are read in SQL (readPreview), not here. */
const HEADER_ONLY = { operations: true, memberships: true } as const;

export interface ApplyResult {
  cycleId: string | null;
  status: string;
  counts: Record<string, number>;
  /** Planned now but left out, because they were not (or not so) in the preview. */
  notApplied: {
    count: number;
    sample: { displayName: string | null; sourceId: string | null; reason: string | null }[];
  };
}

/** Starts "Preview next cycle": a dry run on a worker that stores its whole plan. */
export async function requestPreview(
  db: PrismaClient,
  connectionId: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<PreviewHeader> {
  const connection = await getConnection(db, connectionId);
  const computing = await db.planPreview.findFirst({
    where: { connectionId: connection.id, status: "computing" },
    orderBy: { createdAt: "desc" },
    omit: HEADER_ONLY,
  });
  if (computing) return computing;
  const preview = await db.planPreview.create({
    data: { connectionId: connection.id, requestedBy: principal.upn },
    omit: HEADER_ONLY,
  });
  await enqueueJob(
    db,
    planPreviewJob,
    { connectionId: connection.id, previewId: preview.id, mode: "compute" },
    { connectionId: connection.id, priority: 50, maxAttempts: 1 },
  );
  await recordAudit(db, {
    connectionId: connection.id,
    activity: "Preview next cycle",
    principal,
    changes: { preview: { before: null, after: preview.id } },
  });
  return preview;
}

/** Applies a ready preview: exactly its operations, on a worker; everything else waits for a cycle. */
export async function applyPreview(
  db: PrismaClient,
  connectionId: string,
  previewId: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<PreviewHeader> {
  const preview = await decide(db, connectionId, previewId, principal, "applying");
  await enqueueJob(
    db,
    planPreviewJob,
    { connectionId, previewId: preview.id, mode: "apply" },
    { connectionId, priority: 50, maxAttempts: 1 },
  );
  const summary = preview.summary as unknown as PreviewSummary;
  await recordAudit(db, {
    connectionId,
    activity: "Apply previewed cycle",
    principal,
    changes: {
      preview: { before: null, after: preview.id },
      operations: {
        before: null,
        after: Object.values(summary.impact?.counts ?? {}).reduce(
          (sum, counts) => sum + counts.users + counts.groups,
          0,
        ),
      },
      disablesOrDeletes: { before: null, after: summary.impact?.disablesOrDeletes ?? 0 },
    },
  });
  return preview;
}

export async function discardPreview(
  db: PrismaClient,
  connectionId: string,
  previewId: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<PreviewHeader> {
  const preview = await decide(db, connectionId, previewId, principal, "discarded");
  await recordAudit(db, {
    connectionId,
    activity: "Discard previewed cycle",
    principal,
    changes: { preview: { before: null, after: preview.id } },
  });
  return preview;
}

/** Moves a ready preview to its decision; only one decision wins when two admins click at once. */
async function decide(
  db: PrismaClient,
  connectionId: string,
  previewId: string,
  principal: Pick<Principal, "upn">,
  status: "applying" | "discarded",
): Promise<PreviewHeader> {
  const preview = await findPreview(db, connectionId, previewId);
  const decided = await db.planPreview.updateMany({
    where: { id: preview.id, status: "ready" },
    data: { status, decidedAt: new Date(), decidedBy: principal.upn },
  });
  if (decided.count === 0) throw notReady(preview, status === "applying" ? "applied" : "discarded");
  return preview;
}

/** A preview with one page of its operations (optionally of one kind) and its member changes. */
export async function readPreview(
  db: PrismaClient,
  connectionId: string,
  previewId: string,
  page: { kind?: PreviewOperation["kind"]; offset: number; limit: number },
) {
  const preview = await findPreview(db, connectionId, previewId);
  const limit = Math.min(page.limit, PAGE_LIMIT);
  const kind = page.kind ?? null;
  // One page of the plan, filtered and cut in PostgreSQL: the whole plan never leaves the database.
  const [operations, memberships] = await Promise.all([
    db.$queryRaw<{ total: bigint; items: PreviewOperation[] | null }[]>`
      WITH matching AS (
        SELECT item.value, item.n
        FROM "PlanPreview" p, jsonb_array_elements(p.operations) WITH ORDINALITY AS item(value, n)
        WHERE p.id = ${preview.id}::uuid AND (${kind}::text IS NULL OR item.value->>'kind' = ${kind}::text))
      SELECT (SELECT count(*) FROM matching) AS total,
        (SELECT jsonb_agg(value ORDER BY n)
         FROM (SELECT value, n FROM matching ORDER BY n OFFSET ${page.offset} LIMIT ${limit}) slice) AS items`,
    db.$queryRaw<{ total: number; items: PlannedMembership[] | null }[]>`
      SELECT jsonb_array_length(p.memberships) AS total,
        (SELECT jsonb_agg(item.value ORDER BY item.n)
         FROM (SELECT value, n FROM jsonb_array_elements(p.memberships) WITH ORDINALITY AS e(value, n)
               ORDER BY n LIMIT ${PAGE_LIMIT}) item) AS items
      FROM "PlanPreview" p WHERE p.id = ${preview.id}::uuid`,
  ]);
  return {
    id: preview.id,
    status: preview.status as PreviewStatus,
    requestedBy: preview.requestedBy,
    createdAt: preview.createdAt,
    readyAt: preview.readyAt,
    decidedAt: preview.decidedAt,
    decidedBy: preview.decidedBy,
    cycleId: preview.cycleId,
    appliedCycleId: preview.appliedCycleId,
    summary: preview.status === "computing" ? null : (preview.summary as unknown as PreviewSummary),
    result: preview.result as unknown as ApplyResult | null,
    error: preview.error as { message: string } | null,
    operations: {
      total: Number(operations[0]?.total ?? 0),
      offset: page.offset,
      items: operations[0]?.items ?? [],
    },
    memberships: { total: Number(memberships[0]?.total ?? 0), items: memberships[0]?.items ?? [] },
  };
}

/** The worker side of a preview: compute it (a stored dry run), or apply it. */
export async function runPreviewJob(
  db: PrismaClient,
  box: SecretBox,
  payload: { connectionId: string; previewId: string; mode: "compute" | "apply" },
  options: RunCycleOptions = {},
): Promise<{ status: string }> {
  const preview = await db.planPreview.findUniqueOrThrow({ where: { id: payload.previewId } });
  try {
    if (payload.mode === "compute") {
      const summary = await runProvisioningCycle(
        db,
        box,
        {
          connectionId: payload.connectionId,
          jobId: null,
          trigger: "preview",
          dryRun: true,
          previewId: preview.id,
        },
        options,
      );
      if (summary.status !== "succeeded" && summary.status !== "succeededWithFailures")
        throw new Error(describeCycleEnd(summary.status, summary.skippedBecause, summary.error?.message));
      return { status: "ready" };
    }
    const operations = preview.operations as unknown as PreviewOperation[];
    const memberships = preview.memberships as unknown as PlannedMembership[];
    const summary = await runProvisioningCycle(
      db,
      box,
      {
        connectionId: payload.connectionId,
        jobId: null,
        trigger: "apply-preview",
        dryRun: false,
        approved: {
          operations: new Set(operations.map((operation) => operation.fingerprint)),
          memberships: new Set(memberships.flatMap(membershipKeys)),
        },
      },
      options,
    );
    if (summary.status === "skipped" || !summary.cycleId)
      throw new Error(describeCycleEnd(summary.status, summary.skippedBecause, summary.error?.message));
    const where = { cycleId: summary.cycleId, errorCode: NOT_IN_PREVIEW };
    const [count, sample] = await Promise.all([
      db.provisioningLog.count({ where }),
      db.provisioningLog.findMany({
        where,
        take: 20,
        orderBy: { seq: "asc" },
        select: { sourceDisplayName: true, sourceId: true, errorReason: true },
      }),
    ]);
    const result: ApplyResult = {
      cycleId: summary.cycleId,
      status: summary.status,
      counts: { ...(summary.counts as unknown as Record<string, number>) },
      notApplied: {
        count,
        sample: sample.map((entry) => ({
          displayName: entry.sourceDisplayName,
          sourceId: entry.sourceId,
          reason: entry.errorReason,
        })),
      },
    };
    await db.planPreview.update({
      where: { id: preview.id },
      data: {
        status: "applied",
        appliedCycleId: summary.cycleId,
        result: result as unknown as Prisma.InputJsonValue,
        ...(summary.error ? { error: { message: summary.error.message } } : {}),
      },
    });
    return { status: "applied" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await db.planPreview.update({
      where: { id: preview.id },
      data: { status: "failed", error: { message } },
    });
    throw error;
  }
}

async function findPreview(
  db: PrismaClient,
  connectionId: string,
  previewId: string,
): Promise<PreviewHeader> {
  const preview =
    previewId === "latest"
      ? await db.planPreview.findFirst({
          where: { connectionId },
          orderBy: { createdAt: "desc" },
          omit: HEADER_ONLY,
        })
      : await db.planPreview.findFirst({ where: { id: previewId, connectionId }, omit: HEADER_ONLY });
  if (!preview)
    throw new AppError(
      "not_found",
      previewId === "latest"
        ? "No cycle has been previewed yet."
        : `No preview ${previewId} for this connection.`,
    );
  return preview;
}

function notReady(preview: Pick<PlanPreview, "status">, verb: string): AppError {
  const why: Record<string, string> = {
    computing: "it is still being computed",
    failed: "it failed",
    applying: "it is being applied",
    applied: "it was applied already",
    discarded: "it was discarded",
    superseded: "a newer preview replaced it; review that one",
  };
  return new AppError(
    "conflict",
    `This preview cannot be ${verb}: ${why[preview.status] ?? preview.status}.`,
  );
}

function describeCycleEnd(status: string, skippedBecause?: string, message?: string): string {
  if (skippedBecause === "already-running")
    return "A provisioning cycle is running; preview again once it has finished.";
  if (skippedBecause) return `The cycle did not start (${skippedBecause}).`;
  return message ? `The cycle ended ${status}: ${message}` : `The cycle ended ${status}.`;
}
