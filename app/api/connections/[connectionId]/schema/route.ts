import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { exportSchema, importSchema } from "@/lib/server/mappings";

const ZParams = z.object({ connectionId: z.uuid() });

/** Entra's provisioning schema JSON (synchronizationRules[].objectMappings[]), to bring a configuration over from Entra and back. */
export const GET = apiRoute({ access: "read", params: ZParams }, async ({ context, params }) =>
  exportSchema(context.db, params.connectionId),
);

export const PUT = apiRoute(
  { access: "write", params: ZParams, body: z.unknown() },
  async ({ context, principal, params, body }) =>
    importSchema(context.db, principal, params.connectionId, body),
);
