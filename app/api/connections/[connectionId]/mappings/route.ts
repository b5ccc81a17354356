import { API } from "@/lib/server/api-definitions";
import { apiRoute, readRequestJson } from "@/lib/server/http";
import { getMappings, saveMappings } from "@/lib/server/mappings";

export const GET = apiRoute(API.getMappings, async ({ context, params }) =>
  getMappings(context.db, params.connectionId),
);

/**
 * Replaces the whole mapping configuration. The body is validated by saveMappings rather than the route
 * wrapper so that an invalid expression is reported with its line and column.
 */
export const PUT = apiRoute(
  { ...API.putMappings, body: undefined },
  async ({ context, principal, params, request }) => ({
    isDefault: false,
    config: await saveMappings(
      context.db,
      principal,
      params.connectionId,
      await readRequestJson(request, context),
      { box: context.box, log: context.log },
    ),
  }),
);
