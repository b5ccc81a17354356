import { z } from "zod";
import { apiRoute } from "@/lib/server/http";
import { restoreDefaultMappings } from "@/lib/server/mappings";

export const POST = apiRoute(
  { access: "write", params: z.object({ connectionId: z.uuid() }) },
  async ({ context, principal, params }) => ({
    isDefault: true,
    config: await restoreDefaultMappings(context.db, principal, params.connectionId),
  }),
);
