import { z } from "zod";
import { ZJsonValue, ZTimestamp } from "./common";

/** The audit log: who changed what, when. */

export const ZAuditQuery = z
  .object({
    cursor: z.string().max(20).regex(/^\d+$/, "is not a cursor from this API").optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export const ZAuditEntry = z.object({
  id: z.uuid(),
  at: ZTimestamp,
  activity: z.string(),
  actor: z.object({ objectId: z.string(), upn: z.string() }),
  result: z.enum(["success", "failure"]),
  /** Per field: { before, after }, secrets masked. */
  changes: ZJsonValue,
});
export type AuditEntry = z.infer<typeof ZAuditEntry>;

export const ZAuditPage = z.object({ items: z.array(ZAuditEntry), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof ZAuditPage>;
