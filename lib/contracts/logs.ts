import { z } from "zod";
import { ZConnectionParams, ZJsonValue, ZTimestamp } from "./common";

/** Provisioning logs: pages of entries, their export as a file, and the retry of a failed one. */

export const LOG_ACTIONS = ["Create", "Update", "Delete", "Disable", "StagedDelete", "Other"] as const;
export const LOG_STATUSES = ["Success", "Failure", "Skipped", "Warning"] as const;

export const ZLogQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    status: z.enum(LOG_STATUSES).optional(),
    action: z.enum(LOG_ACTIONS).optional(),
    /**
     * A display name (or a UPN or mail before the @) containing this, or a whole UPN, mail or object id;
     * case and accents do not matter. Three characters at least: a shorter "contains" cannot use the
     * trigram index and would read every row.
     */
    identity: z
      .string()
      .trim()
      .min(3, "type at least 3 characters of a name, or a whole UPN, mail or object ID")
      .max(200)
      .optional(),
    cycleId: z.uuid().optional(),
    changeId: z.uuid().optional(),
    /** Opaque keyset cursor from the previous page's `nextCursor`. */
    cursor: z.string().max(20).regex(/^\d+$/, "is not a cursor from this API").optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export type LogQuery = z.infer<typeof ZLogQuery>;

export const ZLogExportQuery = ZLogQuery.omit({ cursor: true, limit: true })
  .extend({ format: z.enum(["json", "csv"]).default("csv") })
  .strict();

export const ZLogEntryParams = ZConnectionParams.extend({ logId: z.uuid("is not a log entry id") }).strict();

export const ZProvisioningLog = z.object({
  id: z.uuid(),
  activityDateTime: ZTimestamp,
  cycleId: z.string().nullable(),
  changeId: z.string(),
  jobId: z.string().nullable(),
  action: z.string(),
  status: z.string(),
  objectType: z.string(),
  sourceIdentity: z.object({ id: z.string().nullable(), displayName: z.string().nullable() }),
  targetIdentity: z.object({ id: z.string().nullable(), displayName: z.string().nullable() }),
  /** Stored as Entra writes them: old → new values per attribute, and the pipeline's steps. */
  modifiedProperties: ZJsonValue,
  steps: ZJsonValue,
  error: z
    .object({
      code: z.string().nullable(),
      category: z.string().nullable(),
      reason: z.string().nullable(),
      recommendedAction: z.string().nullable(),
    })
    .nullable(),
  durationMs: z.number().int(),
  initiatedBy: z.string(),
  /** This entry retried that (failed) entry. */
  replayOf: z.string().nullable(),
  /**
   * Continuous mode: when the poll that queued this entry's cycle first saw the change in Entra ID (Graph
   * tells no change time; the change happened at most one poll interval earlier). Null for cycles on a
   * schedule, Start, and on-demand runs. `activityDateTime` is when Dialpad answered.
   */
  changeSeenAt: ZTimestamp.nullable(),
});
export type ProvisioningLog = z.infer<typeof ZProvisioningLog>;

export const ZLogPage = z.object({ items: z.array(ZProvisioningLog), nextCursor: z.string().nullable() });
export type LogPage = z.infer<typeof ZLogPage>;

/** The export is a file, streamed: CSV with a header row, or a JSON array of entries. */
export const ZLogExportCsv = z.string().describe("CSV with a header row, one log entry per line");
export const ZLogExportJson = z.array(ZProvisioningLog);
