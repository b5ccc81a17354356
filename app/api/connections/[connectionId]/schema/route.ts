import { API } from "@/lib/server/api-definitions";
import { apiRoute } from "@/lib/server/http";
import { exportSchema, importSchema } from "@/lib/server/mappings";

/** Entra's provisioning schema JSON (synchronizationRules[].objectMappings[]), to bring a configuration over from Entra and back. */
export const GET = apiRoute(API.exportSchema, async ({ context, params }) =>
  exportSchema(context.db, params.connectionId),
);

export const PUT = apiRoute(API.importSchema, async ({ context, principal, params, body }) =>
  importSchema(context.db, principal, params.connectionId, body, { box: context.box, log: context.log }),
);
