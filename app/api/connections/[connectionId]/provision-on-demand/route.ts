import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { provisionOnDemandAudited } from "@/lib/server/on-demand-audited";

/**
 * Entra's provisionOnDemand: one user, or one group with up to five members, now, outside the schedule.
 * It runs on a worker (the same code path as a cycle, with the worker's rate budget) while this request
 * waits for the result.
 */
export const POST = apiRoute(API.provisionOnDemand, async ({ context, principal, params, body }) =>
  provisionOnDemandAudited(context.db, params.connectionId, body.subjects, principal),
);
