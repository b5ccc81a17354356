import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { listAudit } from "@/lib/server/audit-log";
import { getConnection } from "@/lib/server/connections";

export const GET = apiRoute(API.listAudit, async ({ context, params, query }) => {
  await getConnection(context.db, params.connectionId);
  return listAudit(context.db, params.connectionId, query);
});
