import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { ZLogQuery } from "@/lib/server/logs";
import { exportLogs } from "@/lib/server/logs-export";

const ZExportQuery = ZLogQuery.omit({ cursor: true, limit: true })
  .extend({ format: z.enum(["json", "csv"]).default("csv") })
  .strict();

export const GET = apiRoute(
  { access: "read", params: z.object({ connectionId: z.uuid() }), query: ZExportQuery },
  async ({ context, params, query }) => {
    const connection = await getConnection(context.db, params.connectionId);
    const { format, ...filters } = query;
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    return new Response(exportLogs(context.db, connection.id, filters, format), {
      headers: {
        "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="ProvisioningLogs-${stamp}.${format}"`,
      },
    });
  },
);
