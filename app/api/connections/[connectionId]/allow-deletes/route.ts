import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { allowDeletes } from "@/lib/server/control";

export const POST = apiRoute(API.allowDeletes, async ({ context, principal, params }) =>
  allowDeletes(context.db, context.box, principal, params.connectionId),
);
