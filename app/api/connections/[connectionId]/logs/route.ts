import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { listLogs, ZLogQuery } from "@/lib/server/logs";

export const GET = apiRoute(
  { access: "read", params: z.object({ connectionId: z.uuid() }), query: ZLogQuery },
  async ({ context, params, query }) => {
    await getConnection(context.db, params.connectionId);
    return listLogs(context.db, params.connectionId, query);
  },
);
