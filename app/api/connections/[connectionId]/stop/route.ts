import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { stop } from "@/lib/server/control";

export const POST = apiRoute(API.stop, async ({ context, principal, params }) =>
  stop(context.db, principal, params.connectionId),
);
