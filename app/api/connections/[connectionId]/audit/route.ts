import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { listAudit, ZAuditQuery } from "@/lib/server/audit-log";
import { getConnection } from "@/lib/server/connections";

export const GET = apiRoute(
  { access: "read", params: z.object({ connectionId: z.uuid() }), query: ZAuditQuery },
  async ({ context, params, query }) => {
    await getConnection(context.db, params.connectionId);
    return listAudit(context.db, params.connectionId, query);
  },
);
