import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { restart } from "@/lib/server/control";

export const POST = apiRoute(API.restart, async ({ context, principal, params, body }) =>
  restart(context.db, context.box, principal, params.connectionId, body.criteria),
);
