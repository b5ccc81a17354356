import type { PrismaClient } from "../db/generated/client";
import type { Principal } from "../auth/verify-token";
import { nameAuditObject, recordAudit } from "./audit";
import { getConnection } from "./connections";
import { provisionOnDemandNow, type OnDemandResponse, type OnDemandSubject } from "./on-demand";

/**
 * Provision on demand as the console and API ask for it: audited before it runs (a run that fails is
 * audited too), then the entry names the object by the display name and UPN the run read from Entra,
 * so the audit log shows "Zoë Ångström" rather than an object id.
 */
export async function provisionOnDemandAudited(
  db: PrismaClient,
  connectionId: string,
  subjects: readonly OnDemandSubject[],
  principal: Pick<Principal, "objectId" | "upn">,
): Promise<OnDemandResponse & { jobId: string }> {
  const connection = await getConnection(db, connectionId);
  const [subject] = subjects;
  const auditId = await recordAudit(db, {
    connectionId: connection.id,
    activity: "Provision on demand",
    principal,
    object: { type: subject!.objectTypeName, id: subject!.objectId },
    changes: {
      subjects: {
        before: null,
        after: subjects.map((item) =>
          item.objectTypeName === "Group"
            ? `group ${item.objectId} with ${item.links?.members.length ?? 0} member(s)`
            : item.objectId,
        ),
      },
    },
  });
  const result = await provisionOnDemandNow(db, {
    connectionId: connection.id,
    subject: subject!,
    initiatedBy: principal.upn,
  });
  await nameAuditObject(db, auditId, sourceNames(result));
  return result;
}

/** The display name and UPN an on-demand run read for its source object. */
export function sourceNames(result: OnDemandResponse): {
  displayName: string | null;
  userPrincipalName: string | null;
} {
  const upn = result.sourceIdentity.details?.userPrincipalName;
  return {
    displayName: result.sourceIdentity.displayName,
    userPrincipalName: typeof upn === "string" ? upn : null,
  };
}
