import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { restoreDefaultMappings } from "@/lib/server/mappings";

export const POST = apiRoute(API.restoreDefaultMappings, async ({ context, principal, params }) => ({
  isDefault: true,
  config: await restoreDefaultMappings(context.db, principal, params.connectionId),
}));
