import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { getStatus } from "@/lib/server/control";

export const GET = apiRoute(API.getStatus, async ({ context, params }) =>
  getStatus(context.db, params.connectionId),
);
