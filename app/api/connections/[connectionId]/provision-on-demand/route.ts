import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { AppError } from "@/lib/server/errors";
import { enqueueJob } from "@/lib/jobs/store";
import { JobWaitTimeoutError, waitForJob } from "@/lib/jobs/wait";
import { recordAudit } from "@/lib/server/audit";
import type { OnDemandResponse } from "@/lib/server/on-demand";

/**
 * Entra's provisionOnDemand: one user, or one group with up to five members, now, outside the schedule. It runs on a worker (the same code
 * path as a cycle, with the worker's rate budget) while this request waits for the result.
 */
export const POST = apiRoute(API.provisionOnDemand, async ({ context, principal, params, body }) => {
  const connection = await getConnection(context.db, params.connectionId);
  const { job } = await enqueueJob(
    context.db,
    "on-demand",
    { connectionId: connection.id, subjects: body.subjects, initiatedBy: principal.upn },
    { connectionId: connection.id, priority: 100, maxAttempts: 1 },
  );
  await recordAudit(context.db, {
    connectionId: connection.id,
    activity: "Provision on demand",
    principal,
    changes: {
      subjects: {
        before: null,
        after: body.subjects.map((subject) =>
          subject.objectTypeName === "Group"
            ? `group ${subject.objectId} with ${subject.links?.members.length ?? 0} member(s)`
            : subject.objectId,
        ),
      },
    },
  });
  let finished;
  try {
    finished = await waitForJob(context.db, job.id, { timeoutMs: 90_000, signal: undefined });
  } catch (error) {
    if (error instanceof JobWaitTimeoutError) throw new AppError("worker_unavailable", error.message);
    throw error;
  }
  if (finished.status !== "succeeded") {
    throw new AppError(
      "upstream_failed",
      `On-demand provisioning did not complete: ${finished.lastError ?? finished.status}`,
    );
  }
  const result = (finished.result as { results: OnDemandResponse[] }).results[0];
  return { ...result, jobId: job.id };
});
