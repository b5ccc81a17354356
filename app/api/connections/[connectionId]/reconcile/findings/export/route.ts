import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getConnection } from "@/lib/server/connections";
import { exportReconcileFindings } from "@/lib/server/reconcile";

export const GET = apiRoute(API.exportReconcileFindings, async ({ context, params, query }) => {
  const connection = await getConnection(context.db, params.connectionId);
  const { format, ...filters } = query;
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return new Response(exportReconcileFindings(context.db, connection.id, filters, format), {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="Reconcile-${stamp}.${format}"`,
    },
  });
});
