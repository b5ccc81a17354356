import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { testConnection } from "@/lib/server/test-connection";

export const POST = apiRoute(API.testConnection, async ({ context, principal, params, body }) =>
  testConnection(context, principal, params.connectionId, body),
);
