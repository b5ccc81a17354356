import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { listReconcileFindings } from "@/lib/server/reconcile";

export const GET = apiRoute(API.listReconcileFindings, async ({ context, params, query }) => {
  await getConnection(context.db, params.connectionId);
  return listReconcileFindings(context.db, params.connectionId, query);
});
