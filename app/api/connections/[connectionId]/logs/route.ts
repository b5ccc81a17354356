import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { listLogs } from "@/lib/server/logs";

export const GET = apiRoute(API.listLogs, async ({ context, params, query }) => {
  await getConnection(context.db, params.connectionId);
  return listLogs(context.db, params.connectionId, query);
});
