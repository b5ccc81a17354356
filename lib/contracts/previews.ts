import { z } from "zod";
import { ZConnectionParams, ZTimestamp } from "./common";
import { ZModifiedProperty, ZProvisioningAction } from "./on-demand";

/** "Preview next cycle": a stored dry run, reviewed page by page, then applied exactly or discarded. */

export const ZPreviewKind = z.enum(["create", "update", "disable", "delete", "skip", "fail"]);
export type PreviewKind = z.infer<typeof ZPreviewKind>;

export const ZPreviewParams = ZConnectionParams.extend({
  previewId: z.union([z.literal("latest"), z.uuid("is not a preview id")]),
}).strict();

export const ZPreviewQuery = z
  .object({
    kind: ZPreviewKind.optional(),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type PreviewQuery = z.input<typeof ZPreviewQuery>;

export const ZPreviewStatus = z.enum([
  "computing",
  "ready",
  "failed",
  "applying",
  "applied",
  "discarded",
  "superseded",
]);

export const ZPreviewOperation = z.object({
  fingerprint: z.string(),
  kind: ZPreviewKind,
  action: ZProvisioningAction,
  objectType: z.enum(["User", "Group"]),
  sourceId: z.string(),
  displayName: z.string().nullable(),
  targetId: z.string().nullable(),
  reason: z.string(),
  modifiedProperties: z.array(ZModifiedProperty),
  /** Dialpad office a new user lands in, per its mapped office attribute (null: none mapped). */
  office: z.string().nullable().optional(),
  renameRefused: z.string().optional(),
  errorCode: z.string().optional(),
});
export type PreviewOperation = z.infer<typeof ZPreviewOperation>;

const ZUsersAndGroups = z.object({ users: z.number().int(), groups: z.number().int() });

export const ZPreflightCheck = z.object({
  id: z.enum(["offices", "secret-token-expiry", "group-renames", "licences"]),
  title: z.string(),
  status: z.enum(["pass", "info", "warn", "fail"]),
  detail: z.string(),
  items: z.array(z.string()).optional(),
});

export const ZPreviewSummary = z.object({
  cycleType: z.enum(["initial", "incremental"]),
  impact: z.object({
    counts: z.object({
      create: ZUsersAndGroups,
      update: ZUsersAndGroups,
      disable: ZUsersAndGroups,
      delete: ZUsersAndGroups,
      fail: ZUsersAndGroups,
    }),
    memberships: z.object({ added: z.number().int(), removed: z.number().int(), groups: z.number().int() }),
    /** Licences the plan would take: new users plus users enabled again. */
    newSeats: z.number().int(),
    /** New users per Dialpad office they land in ("" = no office mapped). */
    officesOfNewUsers: z.record(z.string(), z.number().int()),
    groupRenamesNotApplied: z.array(
      z.object({ sourceId: z.string(), displayName: z.string().nullable(), newName: z.string() }),
    ),
    disablesOrDeletes: z.number().int(),
  }),
  preflight: z.array(ZPreflightCheck),
  /** Objects that need nothing (already in step, out of scope and absent, ...). */
  unchanged: z.number().int(),
  /** The connection requires approval of deletions and this plan disables or deletes something. */
  needsApproval: z.boolean(),
});

export const ZPlannedMembership = z.object({
  groupSourceId: z.string(),
  displayName: z.string().nullable(),
  add: z.array(z.string()),
  remove: z.array(z.string()),
});

export const ZPreview = z.object({
  id: z.uuid(),
  status: ZPreviewStatus,
  requestedBy: z.string(),
  createdAt: ZTimestamp,
  readyAt: ZTimestamp.nullable(),
  decidedAt: ZTimestamp.nullable(),
  decidedBy: z.string().nullable(),
  cycleId: z.string().nullable(),
  appliedCycleId: z.string().nullable(),
  /** Null while computing. */
  summary: ZPreviewSummary.nullable(),
  /** What applying did, once applied. */
  result: z
    .object({
      cycleId: z.string().nullable(),
      status: z.string(),
      counts: z.record(z.string(), z.number()),
      /** Planned now but left out, because they were not (or not so) in the preview. */
      notApplied: z.object({
        count: z.number().int(),
        sample: z.array(
          z.object({
            displayName: z.string().nullable(),
            sourceId: z.string().nullable(),
            reason: z.string().nullable(),
          }),
        ),
      }),
    })
    .nullable(),
  error: z.object({ message: z.string() }).nullable(),
  operations: z.object({
    total: z.number().int(),
    offset: z.number().int(),
    items: z.array(ZPreviewOperation),
  }),
  memberships: z.object({ total: z.number().int(), items: z.array(ZPlannedMembership) }),
});
export type Preview = z.infer<typeof ZPreview>;
