import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { recordAudit } from "@/lib/server/audit";
import { provisionOnDemandNow } from "@/lib/server/on-demand";

/**
 * Entra's provisionOnDemand: one user, or one group with up to five members, now, outside the schedule.
 * It runs on a worker (the same code path as a cycle, with the worker's rate budget) while this request
 * waits for the result.
 */
export const POST = apiRoute(API.provisionOnDemand, async ({ context, principal, params, body }) => {
  const connection = await getConnection(context.db, params.connectionId);
  const [subject] = body.subjects;
  await recordAudit(context.db, {
    connectionId: connection.id,
    activity: "Provision on demand",
    principal,
    changes: {
      subjects: {
        before: null,
        after: body.subjects.map((item) =>
          item.objectTypeName === "Group"
            ? `group ${item.objectId} with ${item.links?.members.length ?? 0} member(s)`
            : item.objectId,
        ),
      },
    },
  });
  return provisionOnDemandNow(context.db, {
    connectionId: connection.id,
    subject: subject!,
    initiatedBy: principal.upn,
  });
});
