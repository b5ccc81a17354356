import type { Prisma } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";

/** Entra's audit activity names, so admins recognise them. */
export type AuditActivity =
  | "Add provisioning configuration"
  | "Update provisioning setting or credentials"
  | "Enable/start provisioning configuration"
  | "Disable/pause provisioning configuration"
  | "Enable/restart provisioning configuration"
  | "Update attribute mappings or scope"
  | "Test connection"
  | "Target self-test"
  | "Provision on demand"
  | "Replay a failed change"
  | "Preview next cycle"
  | "Apply previewed cycle"
  | "Discard previewed cycle"
  | "Allow deletes"
  | "Quarantine"
  | "Webhook delivered"
  | "Webhook failed"
  | "Webhook test"
  | "Run reconcile report"
  | "Reconcile action";

export async function recordAudit(
  db: Prisma.TransactionClient,
  entry: {
    connectionId: string | null;
    activity: AuditActivity;
    principal: Pick<Principal, "objectId" | "upn">;
    result?: "success" | "failure";
    changes?: Record<string, unknown>;
  },
): Promise<void> {
  await db.auditEntry.create({
    data: {
      connectionId: entry.connectionId,
      activity: entry.activity,
      actorObjectId: entry.principal.objectId,
      actorUpn: entry.principal.upn,
      result: entry.result ?? "success",
      changes: (entry.changes ?? {}) as Prisma.InputJsonValue,
    },
  });
}
