import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { start } from "@/lib/server/control";

export const POST = apiRoute(API.start, async ({ context, principal, params }) =>
  start(context.db, principal, params.connectionId),
);
