import { z } from "zod";
import {
  ORPHAN_REASONS,
  RECONCILE_CATEGORIES,
  ZReconcileExportQuery,
  ZReconcileFindingQuery,
  type ReconcileCounts,
  type ReconcileFinding,
  type ReconcileFindingPage,
  type ReconcileFindingQuery,
  type ReconcileRun,
} from "../contracts/reconcile";
import type {
  Prisma,
  PrismaClient,
  ReconcileFinding as ReconcileFindingRow,
  ReconcileRun as ReconcileRunRow,
} from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import type { EndedCycle } from "../cycle/schedule";
import { defineJobKind } from "../jobs/kind";
import { enqueueJob } from "../jobs/store";
import type { OrphanReason, ReconcileCategory } from "../sync/reconcile";
import { recordAudit } from "./audit";
import { getConnection } from "./connections";
import { AppError } from "./errors";
import { csvCell } from "./logs-export";

/**
 * The reconcile report as a service: "Run reconcile" queues a job (kind "reconcile", computed by
 * lib/server/reconcile-run.ts on a worker), and the report's findings are read in keyset pages or
 * exported as CSV/JSON, filtered by category, object type, orphan reason, attribute or text.
 */

export const reconcileJob = defineJobKind(
  "reconcile",
  z.object({ connectionId: z.string().uuid(), runId: z.string().uuid() }).strict(),
  {
    // A job that failed or was cancelled (also before it started) leaves its run saying why, not "queued".
    onEnd: async (tx, end) => {
      if (end.status === "succeeded") return;
      await tx.reconcileRun.updateMany({
        where: { jobId: end.jobId, status: { in: ["queued", "running"] } },
        data: {
          status: "failed",
          finishedAt: new Date(),
          error: (end.error ?? end.status).slice(0, 2000),
        },
      });
    },
  },
);

export {
  ZReconcileExportQuery,
  ZReconcileFindingQuery,
  type ReconcileFindingQuery,
  type ReconcileCounts,
  type ReconcileFindingPage,
};
export type ReconcileRunDto = ReconcileRun;
export type ReconcileFindingDto = ReconcileFinding;

// The contract's lists and the report's own (lib/sync stays free of API contracts) must not drift apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const categoriesAgree: Same<ReconcileCategory, (typeof RECONCILE_CATEGORIES)[number]> = true;
const reasonsAgree: Same<OrphanReason, (typeof ORPHAN_REASONS)[number]> = true;
void [categoriesAgree, reasonsAgree];

function runDto(run: ReconcileRunRow): ReconcileRunDto {
  return {
    id: run.id,
    status: run.status as ReconcileRun["status"],
    requestedBy: run.requestedBy,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    finishedAt: run.finishedAt?.toISOString() ?? null,
    error: run.error,
    counts: run.counts as unknown as ReconcileRunDto["counts"],
    read: {
      dialpadUsers: run.dialpadUsers,
      dialpadGroups: run.dialpadGroups,
      entraUsers: run.entraUsers,
      dialpadRequests: run.dialpadRequests,
    },
  };
}

function findingDto(row: ReconcileFindingRow): ReconcileFindingDto {
  return {
    id: row.seq.toString(),
    category: row.category as ReconcileFinding["category"],
    objectType: row.objectType as ReconcileFinding["objectType"],
    reason: row.reason as ReconcileFinding["reason"],
    target: { id: row.targetId, name: row.targetName, active: row.targetActive },
    source: { id: row.sourceId, name: row.sourceName },
    attribute: row.attribute,
    dialpadValue: row.dialpadValue ?? null,
    desiredValue: row.desiredValue ?? null,
    detail: row.detail,
    member: row.memberTargetId ? { targetId: row.memberTargetId, sourceId: row.memberSourceId } : null,
  };
}

/** Queues a reconcile report; while one is queued or running, that one is the answer. */
export async function requestReconcile(
  db: PrismaClient,
  connectionId: string,
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<ReconcileRunDto> {
  const connection = await getConnection(db, connectionId);
  const live = await db.reconcileRun.findFirst({
    where: { connectionId: connection.id, status: { in: ["queued", "running"] } },
    orderBy: { createdAt: "desc" },
  });
  if (live) return runDto(live);
  const run = await db.$transaction(async (tx) => {
    const created = await queueReconcileRun(tx, connection.id, principal.upn);
    await recordAudit(tx, {
      connectionId: connection.id,
      activity: "Run reconcile report",
      principal,
      changes: { report: { before: null, after: created.id } },
    });
    return created;
  });
  return runDto(run);
}

/** A report run and the job that computes it, in the caller's transaction. */
async function queueReconcileRun(tx: Prisma.TransactionClient, connectionId: string, requestedBy: string) {
  const created = await tx.reconcileRun.create({ data: { connectionId, requestedBy } });
  const { job } = await enqueueJob(
    tx,
    reconcileJob,
    { connectionId, runId: created.id },
    { connectionId, priority: 20, maxAttempts: 2, dedupeKey: `reconcile:${connectionId}` },
  );
  return tx.reconcileRun.update({ where: { id: created.id }, data: { jobId: job.id } });
}

/**
 * After a full (initial) cycle that succeeded, a report, when the connection asks for one
 * (reconcileAfterFullCycle) and none is queued or running. Runs in the transaction that ends the cycle.
 */
export async function queueReconcileAfterFullCycle(tx: Prisma.TransactionClient, ended: EndedCycle) {
  if (ended.dryRun || ended.type !== "initial") return;
  if (ended.status !== "succeeded" && ended.status !== "succeededWithFailures") return;
  const connection = await tx.connection.findUnique({
    where: { id: ended.connectionId },
    select: { reconcileAfterFullCycle: true },
  });
  if (!connection?.reconcileAfterFullCycle) return;
  const live = await tx.reconcileRun.count({
    where: { connectionId: ended.connectionId, status: { in: ["queued", "running"] } },
  });
  if (live === 0) await queueReconcileRun(tx, ended.connectionId, "System");
}

/** A report by id, or the connection's latest (null: none yet). */
export async function readReconcileRun(
  db: PrismaClient,
  connectionId: string,
  runId?: string,
): Promise<ReconcileRunDto | null> {
  const run = runId
    ? await db.reconcileRun.findFirst({ where: { id: runId, connectionId } })
    : await db.reconcileRun.findFirst({ where: { connectionId }, orderBy: { createdAt: "desc" } });
  if (!run && runId) throw new AppError("not_found", `No reconcile report ${runId} for this connection`);
  return run ? runDto(run) : null;
}

/** The latest report that finished, the one findings are read from by default. */
async function reportFor(
  db: PrismaClient,
  connectionId: string,
  runId?: string,
): Promise<ReconcileRunRow | null> {
  if (runId) {
    const run = await db.reconcileRun.findFirst({ where: { id: runId, connectionId } });
    if (!run) throw new AppError("not_found", `No reconcile report ${runId} for this connection`);
    return run;
  }
  return db.reconcileRun.findFirst({
    where: { connectionId, status: "succeeded" },
    orderBy: { createdAt: "desc" },
  });
}

function findingWhere(runId: string, query: Omit<ReconcileFindingQuery, "limit" | "cursor">) {
  const where: Prisma.ReconcileFindingWhereInput = {
    runId,
    ...(query.category ? { category: query.category } : {}),
    ...(query.objectType ? { objectType: query.objectType } : {}),
    ...(query.reason ? { reason: query.reason } : {}),
    ...(query.attribute ? { attribute: { equals: query.attribute, mode: "insensitive" } } : {}),
  };
  if (query.search) {
    const contains = { contains: query.search, mode: "insensitive" } as const;
    where.OR = [
      { targetName: contains },
      { sourceName: contains },
      { targetId: query.search },
      { sourceId: query.search },
    ];
  }
  return where;
}

/** One keyset page of a report's findings (the latest finished report unless `runId` names one). */
export async function listReconcileFindings(
  db: PrismaClient,
  connectionId: string,
  query: ReconcileFindingQuery,
): Promise<ReconcileFindingPage> {
  const run = await reportFor(db, connectionId, query.runId);
  if (!run) return { run: null, items: [], nextCursor: null };
  const rows = await db.reconcileFinding.findMany({
    where: {
      ...findingWhere(run.id, query),
      ...(query.cursor ? { seq: { gt: BigInt(query.cursor) } } : {}),
    },
    orderBy: { seq: "asc" },
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return {
    run: runDto(run),
    items: page.map(findingDto),
    nextCursor: rows.length > query.limit ? page[page.length - 1]!.seq.toString() : null,
  };
}

const CSV_COLUMNS: [string, (finding: ReconcileFindingDto) => unknown][] = [
  ["Category", (f) => f.category],
  ["Object type", (f) => f.objectType],
  ["Orphan reason", (f) => f.reason],
  ["Dialpad ID", (f) => f.target.id],
  ["Dialpad name", (f) => f.target.name],
  ["Active in Dialpad", (f) => f.target.active],
  ["Entra ID", (f) => f.source.id],
  ["Entra name", (f) => f.source.name],
  ["Attribute", (f) => f.attribute],
  ["Dialpad value", (f) => f.dialpadValue],
  ["Desired value", (f) => f.desiredValue],
  ["Detail", (f) => f.detail],
];

/** Streams every matching finding in pages of 1,000, so memory stays flat however big the report. */
export function exportReconcileFindings(
  db: PrismaClient,
  connectionId: string,
  query: Omit<ReconcileFindingQuery, "cursor" | "limit">,
  format: "csv" | "json",
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let first = true;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(
          encoder.encode(
            format === "csv" ? CSV_COLUMNS.map(([name]) => csvCell(name)).join(",") + "\r\n" : "[",
          ),
        );
      }
      const page = await listReconcileFindings(db, connectionId, { ...query, cursor, limit: 500 });
      let chunk = "";
      for (const finding of page.items) {
        if (format === "csv")
          chunk += CSV_COLUMNS.map(([, read]) => csvCell(read(finding))).join(",") + "\r\n";
        else {
          chunk += (first ? "" : ",") + JSON.stringify(finding);
          first = false;
        }
      }
      if (chunk) controller.enqueue(encoder.encode(chunk));
      cursor = page.nextCursor ?? undefined;
      if (!page.nextCursor) {
        if (format === "json") controller.enqueue(encoder.encode("]"));
        controller.close();
      }
    },
  });
}
