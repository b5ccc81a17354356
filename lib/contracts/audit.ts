import { z } from "zod";
import { ZJsonValue, ZTimestamp } from "./common";

/** The audit log: who changed what, when, and on which Entra object. */

/** Entra's audit activity names, so admins recognise them. */
export const AUDIT_ACTIVITIES = [
  "Add provisioning configuration",
  "Update provisioning setting or credentials",
  "Enable/start provisioning configuration",
  "Disable/pause provisioning configuration",
  "Enable/restart provisioning configuration",
  "Update attribute mappings or scope",
  "Test connection",
  "Target self-test",
  "Provision on demand",
  "Replay a failed change",
  "Preview next cycle",
  "Apply previewed cycle",
  "Discard previewed cycle",
  "Allow deletes",
  "Quarantine",
  "Webhook delivered",
  "Webhook failed",
  "Webhook test",
  "Run reconcile report",
  "Reconcile action",
] as const;
export type AuditActivity = (typeof AUDIT_ACTIVITIES)[number];

const searchText = z.string().trim().min(1).max(200);

export const ZAuditQuery = z
  .object({
    /** The admin (or app) who acted: part of the UPN, or the whole object id. */
    actor: searchText.optional(),
    activity: z.enum(AUDIT_ACTIVITIES).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** The Entra object acted on (provision on demand, replay): part of its name or UPN, or its id. */
    object: searchText.optional(),
    cursor: z.string().max(20).regex(/^\d+$/, "is not a cursor from this API").optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict()
  .refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), {
    message: "must not be after `to`",
    path: ["from"],
  });
export type AuditQuery = z.infer<typeof ZAuditQuery>;

/** The Entra object an entry acted on (provision on demand, replay). */
export const ZAuditObject = z.object({
  type: z.string(),
  id: z.string(),
  /** Null when neither the run nor the connection's links know the object's name. */
  displayName: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
});
export type AuditEntryObject = z.infer<typeof ZAuditObject>;

export const ZAuditEntry = z.object({
  id: z.uuid(),
  at: ZTimestamp,
  activity: z.string(),
  actor: z.object({ objectId: z.string(), upn: z.string() }),
  result: z.enum(["success", "failure"]),
  /** Per field: { before, after }, secrets masked. */
  changes: ZJsonValue,
  /** Null for activities on the connection itself (settings, start, stop, …). */
  object: ZAuditObject.nullable(),
});
export type AuditEntry = z.infer<typeof ZAuditEntry>;

export const ZAuditPage = z.object({ items: z.array(ZAuditEntry), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof ZAuditPage>;
