import { z } from "zod";
import { ZJsonValue, ZTimestamp } from "./common";

/**
 * The reconcile report (what Dialpad holds against what the mappings want: orphans, drift, missing and
 * suspended users), its findings in pages or as a file, and the actions an admin takes on them.
 */

/** Kept equal to lib/sync/reconcile's lists (lib/server/reconcile.ts fails to compile otherwise). */
export const RECONCILE_CATEGORIES = [
  "orphan",
  "drifted",
  "missing",
  "suspendedInDialpad",
  "activeInDialpad",
] as const;
export const ORPHAN_REASONS = ["neverLinked", "linkLost", "collides"] as const;
export const ZReconcileCategory = z.enum(RECONCILE_CATEGORIES);
export const ZOrphanReason = z.enum(ORPHAN_REASONS);
export type ReconcileCategory = z.infer<typeof ZReconcileCategory>;
export type OrphanReason = z.infer<typeof ZOrphanReason>;

export const ZReconcileRunQuery = z.object({ runId: z.uuid("is not a report id").optional() }).strict();

export const ZReconcileFindingQuery = z
  .object({
    runId: z.uuid("is not a report id").optional(),
    category: ZReconcileCategory.optional(),
    objectType: z.enum(["User", "Group"]).optional(),
    reason: ZOrphanReason.optional(),
    attribute: z.string().trim().min(1).max(200).optional(),
    /** Part of the Dialpad or Entra name or id. */
    search: z.string().trim().min(1).max(200).optional(),
    cursor: z.string().max(20).regex(/^\d+$/, "is not a cursor from this API").optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();
export type ReconcileFindingQuery = z.infer<typeof ZReconcileFindingQuery>;

export const ZReconcileExportQuery = ZReconcileFindingQuery.omit({ cursor: true, limit: true })
  .extend({ format: z.enum(["csv", "json"]).default("csv") })
  .strict();

const ZCountByCategory = z.record(z.string(), z.number().int());

export const ZReconcileCounts = z.object({
  users: ZCountByCategory,
  groups: ZCountByCategory,
  /** Drifted: distinct Dialpad users (a user can drift in several attributes). */
  driftedUsers: z.number().int(),
});
export type ReconcileCounts = z.infer<typeof ZReconcileCounts>;

export const ZReconcileRun = z.object({
  id: z.uuid(),
  status: z.enum(["queued", "running", "succeeded", "failed"]),
  requestedBy: z.string(),
  createdAt: ZTimestamp,
  startedAt: ZTimestamp.nullable(),
  finishedAt: ZTimestamp.nullable(),
  error: z.string().nullable(),
  /** Empty until the report has finished. */
  counts: z.union([ZReconcileCounts, z.strictObject({})]),
  read: z.object({
    dialpadUsers: z.number().int(),
    dialpadGroups: z.number().int(),
    entraUsers: z.number().int(),
    dialpadRequests: z.number().int(),
  }),
});
export type ReconcileRun = z.infer<typeof ZReconcileRun>;

/** The latest report, or the one asked for; `run` is null before the first report. */
export const ZReconcileRunResult = z.object({ run: ZReconcileRun.nullable() });

export const ZReconcileFinding = z.object({
  /** Keyset position, also the id the actions take. */
  id: z.string().regex(/^\d+$/),
  category: ZReconcileCategory,
  objectType: z.enum(["User", "Group"]),
  reason: ZOrphanReason.nullable(),
  target: z.object({
    id: z.string().nullable(),
    name: z.string().nullable(),
    active: z.boolean().nullable(),
  }),
  source: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
  attribute: z.string().nullable(),
  dialpadValue: ZJsonValue,
  desiredValue: ZJsonValue,
  detail: z.string().nullable(),
  /** A drifted group member: its Dialpad user and, when a link points to it, its Entra user. */
  member: z.object({ targetId: z.string(), sourceId: z.string().nullable() }).nullable(),
});
export type ReconcileFinding = z.infer<typeof ZReconcileFinding>;

export const ZReconcileFindingPage = z.object({
  /** The report the findings are of (null: no report has finished yet). */
  run: ZReconcileRun.nullable(),
  items: z.array(ZReconcileFinding),
  nextCursor: z.string().nullable(),
});
export type ReconcileFindingPage = z.infer<typeof ZReconcileFindingPage>;

/** The export is a file, streamed: CSV with a header row, or a JSON array of findings. */
export const ZReconcileExportCsv = z.string().describe("CSV with a header row, one finding per line");
export const ZReconcileExportJson = z.array(ZReconcileFinding);

export const RECONCILE_ACTIONS = [
  "suspendOrphans",
  "reapplyDrift",
  "recreateMissing",
  "adoptOrphan",
] as const;
export type ReconcileAction = (typeof RECONCILE_ACTIONS)[number];

export const ZReconcileActionRequest = z
  .object({
    action: z.enum(RECONCILE_ACTIONS),
    /** Findings of the latest finished report (ids from the findings list); default: every one that fits. */
    findingIds: z
      .array(z.string().regex(/^\d{1,19}$/, "is not a finding id"))
      .min(1)
      .max(10_000)
      .optional(),
    /** Preview: what would be sent, nothing is. */
    dryRun: z.boolean(),
    /** Needed to suspend more users than the deletion threshold (or any, when approval is required). */
    confirm: z.boolean().optional(),
    /** adoptOrphan: the Entra user to link (default: the user whose matching value it shares). */
    sourceId: z.string().trim().min(1).max(200).optional(),
  })
  .strict();
export type ReconcileActionRequest = z.infer<typeof ZReconcileActionRequest>;

/** A SCIM PatchOp operation as the action sends it to Dialpad. */
const ZPatchOperation = z.object({
  op: z.enum(["add", "replace", "remove", "Add", "Replace", "Remove"]),
  path: z.string().optional(),
  value: ZJsonValue.optional(),
});

export const ZPlannedChange = z.object({
  findingId: z.string(),
  targetId: z.string(),
  targetName: z.string().nullable(),
  sourceId: z.string().nullable(),
  /**
   * The Dialpad request it sends (reapplyDrift: the on-demand run's PATCH); null when on demand decides
   * it (recreateMissing: a match, then a POST when none) or nothing is sent (adoptOrphan).
   */
  request: z
    .object({ method: z.literal("PATCH"), path: z.string(), operations: z.array(ZPatchOperation) })
    .nullable(),
  /** What changes, attribute by attribute (adoptOrphan: the link). */
  changes: z.array(z.object({ attribute: z.string(), from: ZJsonValue, to: ZJsonValue })),
});
export type PlannedChange = z.infer<typeof ZPlannedChange>;

export const ZReconcileActionResult = z.object({
  action: z.enum(RECONCILE_ACTIONS),
  dryRun: z.boolean(),
  runId: z.uuid(),
  summary: z.string(),
  planned: z.array(ZPlannedChange),
  /** Suspensions only: the connection's threshold and whether this many needs `confirm`. */
  threshold: z.object({ limit: z.number().int().nullable(), needsConfirmation: z.boolean() }).nullable(),
  applied: z
    .object({
      succeeded: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      failures: z.array(z.string()),
    })
    .nullable(),
});
export type ReconcileActionResult = z.infer<typeof ZReconcileActionResult>;
