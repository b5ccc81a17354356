import { z } from "zod";
import { ZMappingConfig } from "../mapping";
import { ZAuditQuery } from "./audit-log";
import { ZConnectionSettings, ZCreateConnection, ZRotateSecretToken } from "./connections";
import { ZLogQuery } from "./logs";
import { ZPreviewRequest } from "./mappings";
import { ZReconcileExportQuery, ZReconcileFindingQuery } from "./reconcile";
import { ZReconcileActionRequest } from "./reconcile-actions";

/**
 * Every /api route's contract in one place: the route handlers parse with these schemas and the OpenAPI
 * document is generated from them, so the two cannot drift apart.
 */
export interface ApiDefinition {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  summary: string;
  access: "read" | "write" | "public";
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Successful response: status, description, media type (JSON unless said otherwise). */
  success: { status: number; description: string; contentType?: string };
}

const ZConnectionParams = z.object({ connectionId: z.uuid("is not a connection id") }).strict();
const withConnection = { params: ZConnectionParams } as const;

export const ZUpdateConnection = z
  .object({
    settings: ZConnectionSettings,
    /** The `version` the client loaded; a newer one on the server means someone else saved meanwhile. */
    expectedVersion: z.number().int().optional(),
  })
  .strict();

export const ZTestConnection = z
  .object({
    tenantUrl: z.string().trim().min(1).max(2048).optional(),
    secretToken: z.string().min(1).max(4096).optional(),
  })
  .strict();

/** Send test event: the URL and secret typed in the form, else the saved ones. */
export const ZWebhookTest = z
  .object({
    webhookUrl: z.string().trim().min(1).max(2048).optional(),
    webhookSecret: z.string().min(16, "must be at least 16 characters").max(512).optional(),
  })
  .strict();

/** The self-test writes to the target only with this explicit consent (one temporary user, deleted again). */
export const ZTargetSelfTest = z.object({ createTemporaryUser: z.boolean() }).strict();

const ZObjectId = z.string().trim().min(1, "give the object id").max(200);

/** Entra's provisionOnDemand subject: a user, or a group with (at most five of) its members in `links`. */
export const ZOnDemandSubject = z.discriminatedUnion("objectTypeName", [
  z.object({ objectId: ZObjectId, objectTypeName: z.literal("User") }).strict(),
  z
    .object({
      objectId: ZObjectId,
      objectTypeName: z.literal("Group"),
      links: z
        .object({
          members: z
            .array(z.object({ objectId: ZObjectId, objectTypeName: z.literal("User") }).strict())
            .max(5, "provision at most 5 members with a group")
            .refine(
              (members) => new Set(members.map((member) => member.objectId)).size === members.length,
              "each member can be picked once",
            ),
        })
        .strict()
        .optional(),
    })
    .strict(),
]);

export const ZProvisionOnDemand = z
  .object({
    subjects: z.array(ZOnDemandSubject).length(1, "provision one user, or one group, at a time"),
  })
  .strict();

export const ZDirectorySearch = z
  .object({ search: z.string().trim().min(1, "type at least one character").max(100) })
  .strict();

export const ZGroupMemberSearch = z.object({ search: z.string().trim().max(100).optional() }).strict();

const ZPreviewParams = ZConnectionParams.extend({
  previewId: z.union([z.literal("latest"), z.uuid("is not a preview id")]),
}).strict();

export const ZPreviewQuery = z
  .object({
    kind: z.enum(["create", "update", "disable", "delete", "fail", "skip"]).optional(),
    offset: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

export const ZLogExportQuery = ZLogQuery.omit({ cursor: true, limit: true })
  .extend({ format: z.enum(["json", "csv"]).default("csv") })
  .strict();

export const ZRestart = z
  .object({
    /**
     * Entra's reset criteria. Empty (the portal's Restart): clear the watermark, escrows and quarantine,
     * keep the links. Full also breaks links; ForceDeletes executes deletions held by the threshold.
     */
    criteria: z
      .array(z.enum(["Watermark", "Escrows", "QuarantineState", "Full", "ForceDeletes"]))
      .max(5)
      .default([]),
  })
  .strict();

const json = (status: number, description: string) => ({ status, description });

export const API = {
  health: {
    method: "GET",
    path: "/api/health",
    summary: "Liveness: database reachable, newest worker heartbeat",
    access: "public",
    success: json(200, "Health report"),
  },
  metrics: {
    method: "GET",
    path: "/api/metrics",
    summary: "Prometheus metrics (Reader token or METRICS_TOKEN)",
    access: "read",
    success: { status: 200, description: "Prometheus text exposition", contentType: "text/plain" },
  },
  me: {
    method: "GET",
    path: "/api/me",
    summary: "The signed-in principal and roles",
    access: "read",
    success: json(200, "Principal"),
  },
  listConnections: {
    method: "GET",
    path: "/api/connections",
    summary: "List connections",
    access: "read",
    success: json(200, "Connections (secrets never included)"),
  },
  createConnection: {
    method: "POST",
    path: "/api/connections",
    summary: "Create a connection",
    access: "write",
    body: ZCreateConnection,
    success: json(201, "The created connection"),
  },
  getConnection: {
    method: "GET",
    path: "/api/connections/{connectionId}",
    summary: "Read a connection's settings",
    access: "read",
    ...withConnection,
    success: json(200, "Connection (secrets as last four characters only)"),
  },
  updateConnection: {
    method: "PATCH",
    path: "/api/connections/{connectionId}",
    summary: "Change settings and credentials (secrets are write-only)",
    access: "write",
    ...withConnection,
    body: ZUpdateConnection,
    success: json(200, "The updated connection"),
  },
  deleteConnection: {
    method: "DELETE",
    path: "/api/connections/{connectionId}",
    summary: "Delete a connection and its history",
    access: "write",
    ...withConnection,
    success: { status: 204, description: "Deleted" },
  },
  rotateSecretToken: {
    method: "POST",
    path: "/api/connections/{connectionId}/rotate-secret-token",
    summary: "Rotate the Dialpad secret token (and its expiry date) in one audited call",
    access: "write",
    ...withConnection,
    body: ZRotateSecretToken,
    success: json(200, "The updated connection (the new key as last four characters only)"),
  },
  testConnection: {
    method: "POST",
    path: "/api/connections/{connectionId}/test-connection",
    summary: "Test Connection (typed values, else the saved ones)",
    access: "write",
    ...withConnection,
    body: ZTestConnection,
    success: json(200, "{ ok, status, message, detail }"),
  },
  targetSelfTest: {
    method: "POST",
    path: "/api/connections/{connectionId}/target-self-test",
    summary: "Check the saved SCIM target's behaviour (creates and deletes one temporary user when allowed)",
    access: "write",
    ...withConnection,
    body: ZTargetSelfTest,
    success: json(200, "{ target, summary, checks[], temporaryUser } with pass/warn/fail per check"),
  },
  webhookTest: {
    method: "POST",
    path: "/api/connections/{connectionId}/webhook-test",
    summary: 'Send a signed "webhook.test" event now (typed URL and secret, else the saved ones)',
    access: "write",
    ...withConnection,
    body: ZWebhookTest,
    success: json(200, "{ ok, status, durationMs, eventId, message }: the receiver's answer or the error"),
  },
  searchDirectoryUsers: {
    method: "GET",
    path: "/api/connections/{connectionId}/directory/users",
    summary: "Search Entra users by name, UPN or mail",
    access: "read",
    ...withConnection,
    query: ZDirectorySearch,
    success: json(200, "Matching users"),
  },
  searchDirectoryGroups: {
    method: "GET",
    path: "/api/connections/{connectionId}/directory/groups",
    summary: "Search Entra groups by name or mail",
    access: "read",
    ...withConnection,
    query: ZDirectorySearch,
    success: json(200, "Matching groups"),
  },
  listDirectoryGroupMembers: {
    method: "GET",
    path: "/api/connections/{connectionId}/directory/groups/{groupId}/members",
    summary: "Direct user members of an Entra group, to pick up to 5 for on-demand provisioning",
    access: "read",
    params: ZConnectionParams.extend({ groupId: z.string().trim().min(1).max(200) }).strict(),
    query: ZGroupMemberSearch,
    success: json(200, "Direct user members (at most 50), with how many the group has"),
  },
  replayLogEntry: {
    method: "POST",
    path: "/api/connections/{connectionId}/logs/{logId}/replay",
    summary: "Retry one failed change now, re-planned from current source data; logged with a link to it",
    access: "write",
    params: ZConnectionParams.extend({ logId: z.uuid("is not a log entry id") }).strict(),
    success: json(200, "The on-demand result of the retry, with replayOf"),
  },
  requestPreview: {
    method: "POST",
    path: "/api/connections/{connectionId}/previews",
    summary: "Preview the next cycle: compute its whole plan on a worker without writing to Dialpad",
    access: "write",
    ...withConnection,
    success: json(202, "The preview, computing; poll it until it is ready"),
  },
  getPreview: {
    method: "GET",
    path: "/api/connections/{connectionId}/previews/{previewId}",
    summary: "A preview (or the latest): summary, Dialpad impact, pre-flight checks and a page of operations",
    access: "read",
    params: ZPreviewParams,
    query: ZPreviewQuery,
    success: json(200, "The preview with one page of its operations"),
  },
  applyPreview: {
    method: "POST",
    path: "/api/connections/{connectionId}/previews/{previewId}/apply",
    summary: "Apply exactly the previewed operations (changes made since the preview are skipped)",
    access: "write",
    params: ZPreviewParams,
    success: json(202, "The preview, applying"),
  },
  discardPreview: {
    method: "POST",
    path: "/api/connections/{connectionId}/previews/{previewId}/discard",
    summary: "Discard a preview without applying it",
    access: "write",
    params: ZPreviewParams,
    success: json(200, "The preview, discarded"),
  },
  explainUser: {
    method: "GET",
    path: "/api/connections/{connectionId}/explain/users/{objectId}",
    summary: "Why? Each mapping, scoping clause and the match for one user, and what the next cycle would do",
    access: "read",
    params: ZConnectionParams.extend({ objectId: z.string().trim().min(1).max(200) }).strict(),
    success: json(200, "Source values, attribute evaluations and the decision (nothing is written)"),
  },
  provisionOnDemand: {
    method: "POST",
    path: "/api/connections/{connectionId}/provision-on-demand",
    summary: "Provision one user, or one group with up to 5 members, now (Entra's provisionOnDemand)",
    access: "write",
    ...withConnection,
    body: ZProvisionOnDemand,
    success: json(200, "Steps, modified properties and status, as Entra's provisionOnDemand"),
  },
  getStatus: {
    method: "GET",
    path: "/api/connections/{connectionId}/status",
    summary: "Provisioning status, progress, quarantine and last execution",
    access: "read",
    ...withConnection,
    success: json(200, "Status"),
  },
  start: {
    method: "POST",
    path: "/api/connections/{connectionId}/start",
    summary: "Start provisioning (queues a cycle now)",
    access: "write",
    ...withConnection,
    success: json(200, "Outcome"),
  },
  stop: {
    method: "POST",
    path: "/api/connections/{connectionId}/stop",
    summary: "Stop provisioning (the running unit finishes)",
    access: "write",
    ...withConnection,
    success: json(200, "Outcome"),
  },
  restart: {
    method: "POST",
    path: "/api/connections/{connectionId}/restart",
    summary: "Restart provisioning with Entra's reset criteria, then queue a cycle",
    access: "write",
    ...withConnection,
    body: ZRestart,
    success: json(200, "What was reset and the queued cycle"),
  },
  allowDeletes: {
    method: "POST",
    path: "/api/connections/{connectionId}/allow-deletes",
    summary: "Execute the disables and deletes held by accidental-deletion prevention",
    access: "write",
    ...withConnection,
    success: json(200, "{ executed, failed }"),
  },
  getMappings: {
    method: "GET",
    path: "/api/connections/{connectionId}/mappings",
    summary: "Attribute mappings and scoping filters",
    access: "read",
    ...withConnection,
    success: json(200, "Mapping configuration"),
  },
  putMappings: {
    method: "PUT",
    path: "/api/connections/{connectionId}/mappings",
    summary: "Replace attribute mappings and scoping filters",
    access: "write",
    ...withConnection,
    body: ZMappingConfig,
    success: json(200, "Saved configuration"),
  },
  restoreDefaultMappings: {
    method: "POST",
    path: "/api/connections/{connectionId}/mappings/restore-defaults",
    summary: "Restore Dialpad's default mappings",
    access: "write",
    ...withConnection,
    success: json(200, "Default configuration"),
  },
  previewExpression: {
    method: "POST",
    path: "/api/connections/{connectionId}/mappings/preview",
    summary: "Evaluate an expression against a directory user",
    access: "read",
    ...withConnection,
    body: ZPreviewRequest,
    success: json(200, "Value and trace, or the error position"),
  },
  exportSchema: {
    method: "GET",
    path: "/api/connections/{connectionId}/schema",
    summary: "Export Entra's provisioning schema JSON",
    access: "read",
    ...withConnection,
    success: json(200, "synchronizationRules[].objectMappings[]"),
  },
  importSchema: {
    method: "PUT",
    path: "/api/connections/{connectionId}/schema",
    summary: "Import Entra's provisioning schema JSON",
    access: "write",
    ...withConnection,
    body: z.record(z.string(), z.unknown()),
    success: json(200, "Imported configuration and warnings"),
  },
  listLogs: {
    method: "GET",
    path: "/api/connections/{connectionId}/logs",
    summary: "Provisioning logs, newest first (keyset pagination)",
    access: "read",
    ...withConnection,
    query: ZLogQuery,
    success: json(200, "{ items, nextCursor }"),
  },
  exportLogs: {
    method: "GET",
    path: "/api/connections/{connectionId}/logs/export",
    summary: "Download provisioning logs as CSV or JSON (streamed)",
    access: "read",
    ...withConnection,
    query: ZLogExportQuery,
    success: { status: 200, description: "CSV or JSON file", contentType: "text/csv" },
  },
  requestReconcile: {
    method: "POST",
    path: "/api/connections/{connectionId}/reconcile",
    summary: "Run a reconcile report on a worker: orphans, drift, missing and suspended users in Dialpad",
    access: "write",
    ...withConnection,
    success: json(202, "The report, queued (or the one already queued or running)"),
  },
  getReconcile: {
    method: "GET",
    path: "/api/connections/{connectionId}/reconcile",
    summary: "The latest reconcile report (or the one named by runId): status and counts",
    access: "read",
    ...withConnection,
    query: z.object({ runId: z.uuid("is not a report id").optional() }).strict(),
    success: json(200, "{ run } (run is null before the first report)"),
  },
  listReconcileFindings: {
    method: "GET",
    path: "/api/connections/{connectionId}/reconcile/findings",
    summary:
      "A reconcile report's findings, filtered (keyset pagination); the latest finished report by default",
    access: "read",
    ...withConnection,
    query: ZReconcileFindingQuery,
    success: json(200, "{ run, items, nextCursor }"),
  },
  exportReconcileFindings: {
    method: "GET",
    path: "/api/connections/{connectionId}/reconcile/findings/export",
    summary: "Download a reconcile report's findings as CSV or JSON (streamed)",
    access: "read",
    ...withConnection,
    query: ZReconcileExportQuery,
    success: { status: 200, description: "CSV or JSON file", contentType: "text/csv" },
  },
  reconcileAction: {
    method: "POST",
    path: "/api/connections/{connectionId}/reconcile/actions",
    summary:
      "Preview (dryRun) or apply an action on the latest report: suspend orphans, re-apply drifted values, adopt an orphan",
    access: "write",
    ...withConnection,
    body: ZReconcileActionRequest,
    success: json(200, "What is (or was) sent to Dialpad, and the outcome when applied"),
  },
  listAudit: {
    method: "GET",
    path: "/api/connections/{connectionId}/audit",
    summary: "Audit log: who changed what, when",
    access: "read",
    ...withConnection,
    query: ZAuditQuery,
    success: json(200, "{ items, nextCursor }"),
  },
} satisfies Record<string, ApiDefinition>;
