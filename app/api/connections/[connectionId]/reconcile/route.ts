import { API } from "@/lib/server/api-definitions";
import { apiRoute, json } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { readReconcileRun, requestReconcile } from "@/lib/server/reconcile";

/** "Run reconcile": computed on a worker; the answer is the queued report. */
export const POST = apiRoute(API.requestReconcile, async ({ context, principal, params }) =>
  json(await requestReconcile(context.db, params.connectionId, principal), 202),
);

export const GET = apiRoute(API.getReconcile, async ({ context, params, query }) => {
  await getConnection(context.db, params.connectionId);
  return { run: await readReconcileRun(context.db, params.connectionId, query.runId) };
});
