import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { getMappings, saveMappings } from "@/lib/server/mappings";

const ZParams = z.object({ connectionId: z.uuid() });

export const GET = apiRoute({ access: "read", params: ZParams }, async ({ context, params }) =>
  getMappings(context.db, params.connectionId),
);

/** Replaces the whole mapping configuration; every problem comes back with its field path. */
export const PUT = apiRoute(
  { access: "write", params: ZParams, body: z.unknown() },
  async ({ context, principal, params, body }) => ({
    isDefault: false,
    config: await saveMappings(context.db, principal, params.connectionId, body),
  }),
);
