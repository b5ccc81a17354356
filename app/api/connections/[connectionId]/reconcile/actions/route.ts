import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { runReconcileAction } from "@/lib/server/reconcile-actions";

export const POST = apiRoute(API.reconcileAction, async ({ context, principal, params, body }) =>
  runReconcileAction(context.db, context.box, params.connectionId, body, principal),
);
