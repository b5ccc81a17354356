import { z } from "zod";
import { ZAuditPage, ZAuditQuery } from "../contracts/audit";
import { ZConnectionParams } from "../contracts/common";
import {
  ZConnection,
  ZConnectionList,
  ZCreateConnection,
  ZRotateSecretToken,
  ZTargetSelfTest,
  ZTargetSelfTestReport,
  ZTestConnection,
  ZTestConnectionResult,
  ZUpdateConnection,
  ZWebhookTest,
  ZWebhookTestResult,
} from "../contracts/connections";
import {
  ZDirectoryGroups,
  ZDirectorySearch,
  ZDirectoryUsers,
  ZGroupMembers,
  ZGroupMembersParams,
  ZGroupMemberSearch,
} from "../contracts/directory";
import {
  ZLogEntryParams,
  ZLogExportCsv,
  ZLogExportJson,
  ZLogExportQuery,
  ZLogPage,
  ZLogQuery,
} from "../contracts/logs";
import {
  ZEntraSchema,
  ZEntraSchemaImport,
  ZExpressionPreview,
  ZMappingConfig,
  ZMappings,
  ZPreviewRequest,
  ZSchemaImportResult,
} from "../contracts/mappings";
import {
  ZOnDemandResponse,
  ZProvisionOnDemand,
  ZReplayResult,
  ZUserExplanation,
} from "../contracts/on-demand";
import { ZPreview, ZPreviewParams, ZPreviewQuery } from "../contracts/previews";
import {
  ZReconcileActionRequest,
  ZReconcileActionResult,
  ZReconcileExportCsv,
  ZReconcileExportJson,
  ZReconcileExportQuery,
  ZReconcileFindingPage,
  ZReconcileFindingQuery,
  ZReconcileRun,
  ZReconcileRunQuery,
  ZReconcileRunResult,
} from "../contracts/reconcile";
import {
  ZAllowDeletesResult,
  ZRestart,
  ZRestartResult,
  ZStartResult,
  ZStatus,
  ZStopResult,
} from "../contracts/status";
import { ZHealth, ZMe, ZMetrics } from "../contracts/system";

/**
 * Every /api route's contract in one place: the route handlers parse with these schemas, the OpenAPI
 * document is generated from them, and the console's types are inferred from the same schemas
 * (lib/contracts), so the three cannot drift apart. test/api-contracts.test.ts checks real responses
 * against `success.schema`.
 */
export interface ApiDefinition {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  summary: string;
  access: "read" | "write" | "public";
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /**
   * Successful response: status, description, body schema (null only for 204 No Content) and media type
   * (JSON unless said otherwise).
   */
  success: {
    status: number;
    description: string;
    schema: z.ZodType | null;
    contentType?: string;
    /** The same answer in other media types the request can ask for (the log export's JSON). */
    otherContent?: Record<string, z.ZodType>;
  };
  /** Answers other than success that are not problem+json (health's 503 is its own report). */
  otherResponses?: { status: number; description: string; schema: z.ZodType }[];
}

const withConnection = { params: ZConnectionParams } as const;

/** A JSON success answer; the schema keeps its own type, so the console's types are inferred from it. */
const json = <S extends z.ZodType>(status: number, description: string, schema: S) => ({
  status,
  description,
  schema,
});

export const API = {
  health: {
    method: "GET",
    path: "/api/health",
    summary: "Liveness: database reachable, newest worker heartbeat",
    access: "public",
    success: json(200, "Health report", ZHealth),
    otherResponses: [
      {
        status: 503,
        description: "Database unreachable (or, with ?require=workers, no live worker)",
        schema: ZHealth,
      },
    ],
  },
  metrics: {
    method: "GET",
    path: "/api/metrics",
    summary: "Prometheus metrics (Reader token or METRICS_TOKEN)",
    access: "read",
    success: {
      status: 200,
      description: "Prometheus text exposition",
      schema: ZMetrics,
      contentType: "text/plain",
    },
  },
  me: {
    method: "GET",
    path: "/api/me",
    summary: "The signed-in principal and roles",
    access: "read",
    success: json(200, "Principal", ZMe),
  },
  listConnections: {
    method: "GET",
    path: "/api/connections",
    summary: "List connections",
    access: "read",
    success: json(200, "Connections (secrets never included)", ZConnectionList),
  },
  createConnection: {
    method: "POST",
    path: "/api/connections",
    summary: "Create a connection",
    access: "write",
    body: ZCreateConnection,
    success: json(201, "The created connection", ZConnection),
  },
  getConnection: {
    method: "GET",
    path: "/api/connections/{connectionId}",
    summary: "Read a connection's settings",
    access: "read",
    ...withConnection,
    success: json(200, "Connection (secrets as last four characters only)", ZConnection),
  },
  updateConnection: {
    method: "PATCH",
    path: "/api/connections/{connectionId}",
    summary: "Change settings and credentials (secrets are write-only)",
    access: "write",
    ...withConnection,
    body: ZUpdateConnection,
    success: json(200, "The updated connection", ZConnection),
  },
  deleteConnection: {
    method: "DELETE",
    path: "/api/connections/{connectionId}",
    summary: "Delete a connection and its history",
    access: "write",
    ...withConnection,
    success: { status: 204, description: "Deleted", schema: null },
  },
  rotateSecretToken: {
    method: "POST",
    path: "/api/connections/{connectionId}/rotate-secret-token",
    summary: "Rotate the Dialpad secret token (and its expiry date) in one audited call",
    access: "write",
    ...withConnection,
    body: ZRotateSecretToken,
    success: json(200, "The updated connection (the new key as last four characters only)", ZConnection),
  },
  testConnection: {
    method: "POST",
    path: "/api/connections/{connectionId}/test-connection",
    summary: "Test Connection (typed values, else the saved ones)",
    access: "write",
    ...withConnection,
    body: ZTestConnection,
    success: json(200, "Whether the target answered as expected, in words", ZTestConnectionResult),
  },
  targetSelfTest: {
    method: "POST",
    path: "/api/connections/{connectionId}/target-self-test",
    summary: "Check the saved SCIM target's behaviour (creates and deletes one temporary user when allowed)",
    access: "write",
    ...withConnection,
    body: ZTargetSelfTest,
    success: json(200, "Pass/warn/fail per check, and the temporary user's fate", ZTargetSelfTestReport),
  },
  webhookTest: {
    method: "POST",
    path: "/api/connections/{connectionId}/webhook-test",
    summary: 'Send a signed "webhook.test" event now (typed URL and secret, else the saved ones)',
    access: "write",
    ...withConnection,
    body: ZWebhookTest,
    success: json(200, "The receiver's answer or the error", ZWebhookTestResult),
  },
  searchDirectoryUsers: {
    method: "GET",
    path: "/api/connections/{connectionId}/directory/users",
    summary: "Search Entra users by name, UPN or mail",
    access: "read",
    ...withConnection,
    query: ZDirectorySearch,
    success: json(200, "Matching users", ZDirectoryUsers),
  },
  searchDirectoryGroups: {
    method: "GET",
    path: "/api/connections/{connectionId}/directory/groups",
    summary: "Search Entra groups by name or mail",
    access: "read",
    ...withConnection,
    query: ZDirectorySearch,
    success: json(200, "Matching groups", ZDirectoryGroups),
  },
  listDirectoryGroupMembers: {
    method: "GET",
    path: "/api/connections/{connectionId}/directory/groups/{groupId}/members",
    summary: "Direct user members of an Entra group, to pick up to 5 for on-demand provisioning",
    access: "read",
    params: ZGroupMembersParams,
    query: ZGroupMemberSearch,
    success: json(200, "Direct user members (at most 50), with how many the group has", ZGroupMembers),
  },
  replayLogEntry: {
    method: "POST",
    path: "/api/connections/{connectionId}/logs/{logId}/replay",
    summary: "Retry one failed change now, re-planned from current source data; logged with a link to it",
    access: "write",
    params: ZLogEntryParams,
    success: json(200, "The on-demand result of the retry, with replayOf", ZReplayResult),
  },
  requestPreview: {
    method: "POST",
    path: "/api/connections/{connectionId}/previews",
    summary: "Preview the next cycle: compute its whole plan on a worker without writing to Dialpad",
    access: "write",
    ...withConnection,
    success: json(202, "The preview, computing; poll it until it is ready", ZPreview),
  },
  getPreview: {
    method: "GET",
    path: "/api/connections/{connectionId}/previews/{previewId}",
    summary: "A preview (or the latest): summary, Dialpad impact, pre-flight checks and a page of operations",
    access: "read",
    params: ZPreviewParams,
    query: ZPreviewQuery,
    success: json(200, "The preview with one page of its operations", ZPreview),
  },
  applyPreview: {
    method: "POST",
    path: "/api/connections/{connectionId}/previews/{previewId}/apply",
    summary: "Apply exactly the previewed operations (changes made since the preview are skipped)",
    access: "write",
    params: ZPreviewParams,
    success: json(202, "The preview, applying", ZPreview),
  },
  discardPreview: {
    method: "POST",
    path: "/api/connections/{connectionId}/previews/{previewId}/discard",
    summary: "Discard a preview without applying it",
    access: "write",
    params: ZPreviewParams,
    success: json(200, "The preview, discarded", ZPreview),
  },
  explainUser: {
    method: "GET",
    path: "/api/connections/{connectionId}/explain/users/{objectId}",
    summary: "Why? Each mapping, scoping clause and the match for one user, and what the next cycle would do",
    access: "read",
    params: ZConnectionParams.extend({ objectId: z.string().trim().min(1).max(200) }).strict(),
    success: json(
      200,
      "Source values, attribute evaluations and the decision (nothing is written)",
      ZUserExplanation,
    ),
  },
  provisionOnDemand: {
    method: "POST",
    path: "/api/connections/{connectionId}/provision-on-demand",
    summary: "Provision one user, or one group with up to 5 members, now (Entra's provisionOnDemand)",
    access: "write",
    ...withConnection,
    body: ZProvisionOnDemand,
    success: json(
      200,
      "Steps, modified properties and status, as Entra's provisionOnDemand",
      ZOnDemandResponse,
    ),
  },
  getStatus: {
    method: "GET",
    path: "/api/connections/{connectionId}/status",
    summary: "Provisioning status, progress, quarantine and last execution",
    access: "read",
    ...withConnection,
    success: json(200, "Status", ZStatus),
  },
  start: {
    method: "POST",
    path: "/api/connections/{connectionId}/start",
    summary: "Start provisioning (queues a cycle now)",
    access: "write",
    ...withConnection,
    success: json(200, "Queued, moved to now, or already running", ZStartResult),
  },
  stop: {
    method: "POST",
    path: "/api/connections/{connectionId}/stop",
    summary: "Stop provisioning (the running unit finishes)",
    access: "write",
    ...withConnection,
    success: json(200, "The cycle told to stop and the queued units cancelled", ZStopResult),
  },
  restart: {
    method: "POST",
    path: "/api/connections/{connectionId}/restart",
    summary: "Restart provisioning with Entra's reset criteria, then queue a cycle",
    access: "write",
    ...withConnection,
    body: ZRestart,
    success: json(200, "What was reset and the queued cycle", ZRestartResult),
  },
  allowDeletes: {
    method: "POST",
    path: "/api/connections/{connectionId}/allow-deletes",
    summary: "Execute the disables and deletes held by accidental-deletion prevention",
    access: "write",
    ...withConnection,
    success: json(200, "Held changes executed and failed", ZAllowDeletesResult),
  },
  getMappings: {
    method: "GET",
    path: "/api/connections/{connectionId}/mappings",
    summary: "Attribute mappings and scoping filters",
    access: "read",
    ...withConnection,
    success: json(200, "Mapping configuration", ZMappings),
  },
  putMappings: {
    method: "PUT",
    path: "/api/connections/{connectionId}/mappings",
    summary: "Replace attribute mappings and scoping filters",
    access: "write",
    ...withConnection,
    body: ZMappingConfig,
    success: json(200, "Saved configuration", ZMappings),
  },
  restoreDefaultMappings: {
    method: "POST",
    path: "/api/connections/{connectionId}/mappings/restore-defaults",
    summary: "Restore Dialpad's default mappings",
    access: "write",
    ...withConnection,
    success: json(200, "Default configuration", ZMappings),
  },
  previewExpression: {
    method: "POST",
    path: "/api/connections/{connectionId}/mappings/preview",
    summary: "Evaluate an expression against a directory user",
    access: "read",
    ...withConnection,
    body: ZPreviewRequest,
    success: json(200, "Value and trace, or the error position", ZExpressionPreview),
  },
  exportSchema: {
    method: "GET",
    path: "/api/connections/{connectionId}/schema",
    summary: "Export Entra's provisioning schema JSON",
    access: "read",
    ...withConnection,
    success: json(200, "synchronizationRules[].objectMappings[]", ZEntraSchema),
  },
  importSchema: {
    method: "PUT",
    path: "/api/connections/{connectionId}/schema",
    summary: "Import Entra's provisioning schema JSON",
    access: "write",
    ...withConnection,
    body: ZEntraSchemaImport,
    success: json(200, "Imported configuration and warnings", ZSchemaImportResult),
  },
  listLogs: {
    method: "GET",
    path: "/api/connections/{connectionId}/logs",
    summary: "Provisioning logs, newest first (keyset pagination)",
    access: "read",
    ...withConnection,
    query: ZLogQuery,
    success: json(200, "{ items, nextCursor }", ZLogPage),
  },
  exportLogs: {
    method: "GET",
    path: "/api/connections/{connectionId}/logs/export",
    summary: "Download provisioning logs as CSV or JSON (streamed)",
    access: "read",
    ...withConnection,
    query: ZLogExportQuery,
    success: {
      status: 200,
      description: "CSV (format=csv) or JSON (format=json) file",
      schema: ZLogExportCsv,
      contentType: "text/csv",
      otherContent: { "application/json": ZLogExportJson },
    },
  },
  requestReconcile: {
    method: "POST",
    path: "/api/connections/{connectionId}/reconcile",
    summary: "Run a reconcile report on a worker: orphans, drift, missing and suspended users in Dialpad",
    access: "write",
    ...withConnection,
    success: json(202, "The report, queued (or the one already queued or running)", ZReconcileRun),
  },
  getReconcile: {
    method: "GET",
    path: "/api/connections/{connectionId}/reconcile",
    summary: "The latest reconcile report (or the one named by runId): status and counts",
    access: "read",
    ...withConnection,
    query: ZReconcileRunQuery,
    success: json(200, "{ run } (run is null before the first report)", ZReconcileRunResult),
  },
  listReconcileFindings: {
    method: "GET",
    path: "/api/connections/{connectionId}/reconcile/findings",
    summary:
      "A reconcile report's findings, filtered (keyset pagination); the latest finished report by default",
    access: "read",
    ...withConnection,
    query: ZReconcileFindingQuery,
    success: json(200, "One page of findings and the report they are of", ZReconcileFindingPage),
  },
  exportReconcileFindings: {
    method: "GET",
    path: "/api/connections/{connectionId}/reconcile/findings/export",
    summary: "Download a reconcile report's findings as CSV or JSON (streamed)",
    access: "read",
    ...withConnection,
    query: ZReconcileExportQuery,
    success: {
      status: 200,
      description: "CSV (format=csv) or JSON (format=json) file",
      schema: ZReconcileExportCsv,
      contentType: "text/csv",
      otherContent: { "application/json": ZReconcileExportJson },
    },
  },
  reconcileAction: {
    method: "POST",
    path: "/api/connections/{connectionId}/reconcile/actions",
    summary:
      "Preview (dryRun) or apply an action on the latest report: suspend orphans, re-apply drifted values, adopt an orphan",
    access: "write",
    ...withConnection,
    body: ZReconcileActionRequest,
    success: json(
      200,
      "What is (or was) sent to Dialpad, and the outcome when applied",
      ZReconcileActionResult,
    ),
  },
  listAudit: {
    method: "GET",
    path: "/api/connections/{connectionId}/audit",
    summary: "Audit log: who changed what, when (filtered by actor, activity, date range, object)",
    access: "read",
    ...withConnection,
    query: ZAuditQuery,
    success: json(200, "{ items, nextCursor }", ZAuditPage),
  },
} satisfies Record<string, ApiDefinition>;
