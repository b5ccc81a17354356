import type { Prisma } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import { AUDIT_ACTIVITIES, type AuditActivity } from "../contracts/audit";

export { AUDIT_ACTIVITIES, type AuditActivity };

/** The Entra object an activity acted on, as far as it is known when the entry is written. */
export interface AuditObject {
  type: "User" | "Group";
  id: string;
  displayName?: string | null;
  userPrincipalName?: string | null;
}

export async function recordAudit(
  db: Prisma.TransactionClient,
  entry: {
    connectionId: string | null;
    activity: AuditActivity;
    principal: Pick<Principal, "objectId" | "upn">;
    result?: "success" | "failure";
    changes?: Record<string, unknown>;
    object?: AuditObject;
  },
): Promise<string> {
  const created = await db.auditEntry.create({
    data: {
      connectionId: entry.connectionId,
      activity: entry.activity,
      actorObjectId: entry.principal.objectId,
      actorUpn: entry.principal.upn,
      result: entry.result ?? "success",
      changes: (entry.changes ?? {}) as Prisma.InputJsonValue,
      ...(entry.object
        ? {
            objectType: entry.object.type,
            objectId: entry.object.id,
            objectDisplayName: entry.object.displayName ?? null,
            objectUpn: entry.object.userPrincipalName ?? null,
          }
        : {}),
    },
    select: { id: true },
  });
  return created.id;
}

/**
 * Names the object of an entry written before the run read it (provision on demand audits the request
 * first, so a run that fails is audited too); a name already known is kept when the run learnt none.
 */
export async function nameAuditObject(
  db: Prisma.TransactionClient,
  auditId: string,
  identity: { displayName: string | null; userPrincipalName: string | null },
): Promise<void> {
  const data = {
    ...(identity.displayName ? { objectDisplayName: identity.displayName } : {}),
    ...(identity.userPrincipalName ? { objectUpn: identity.userPrincipalName } : {}),
  };
  if (Object.keys(data).length) await db.auditEntry.update({ where: { id: auditId }, data });
}
